from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import User
from django.test import Client

from amends.incidents.eu261 import eu261_rules
from amends.incidents.models import NotificationTemplate, RecoveryPolicy
from amends.incidents.tests.conftest import Ops

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(ops: Ops) -> Client:
    ops.owner.is_staff = True
    ops.owner.is_superuser = True
    ops.owner.save()
    client = Client()
    client.force_login(ops.owner)
    return client


def _policy_form(ops: Ops, rules: object) -> dict[str, object]:
    return {
        "kind": ops.policy.kind_id,
        "name": "EU261 again",
        "owner": ops.owner.pk,
        "currency": "EUR",
        "rules": json.dumps(rules),
        "note": "",
    }


def test_admin_adds_the_next_policy_version(ops: Ops, admin_client_: Client) -> None:
    response = admin_client_.post(
        "/admin/incidents/recoverypolicy/add/", _policy_form(ops, eu261_rules())
    )
    assert response.status_code == 302
    latest = RecoveryPolicy.objects.get(active=True)
    assert latest.version == ops.policy.version + 1


def test_admin_refuses_a_conflicting_policy_naming_it(ops: Ops, admin_client_: Client) -> None:
    rules = [*eu261_rules(), {"code": "x", "remedy": "meals", "care": True, "when": []}]
    response = admin_client_.post("/admin/incidents/recoverypolicy/add/", _policy_form(ops, rules))
    assert response.status_code == 200
    assert "overlap" in response.content.decode()
    assert RecoveryPolicy.objects.count() == 1


def test_admin_refuses_a_template_with_an_unknown_placeholder(
    ops: Ops, admin_client_: Client
) -> None:
    response = admin_client_.post(
        "/admin/incidents/notificationtemplate/add/",
        {"kind": ops.policy.kind_id, "round_kind": "update", "subject": "Hi", "body": "{nmae}"},
    )
    assert response.status_code == 200
    assert "{nmae}" in response.content.decode()
    assert not NotificationTemplate.objects.filter(kind=ops.policy.kind).exists()


def test_admin_pages_load(admin_client_: Client, ops: Ops) -> None:
    for path in ("incidentkind", "recoverypolicy", "notificationtemplate", "problem", "incident"):
        assert admin_client_.get(f"/admin/incidents/{path}/").status_code == 200
    assert (
        admin_client_.get(f"/admin/incidents/recoverypolicy/{ops.policy.pk}/change/").status_code
        == 200
    )
    assert isinstance(ops.owner, User)

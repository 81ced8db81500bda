from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from amends.remedies.models import AuthorityChange, AuthorityRule
from amends.remedies.tests.factories import kind, remedy_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_():
    user = User.objects.create_superuser("root", "root@example.com", "pw")
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "model",
    ["remedykind", "authorityrule", "cannotdoitem", "remedy", "choicemenu", "authoritychange"],
)
def test_admin_changelists_render(admin_client_, org, model):
    remedy_make(case=org.case)
    response = admin_client_.get(reverse(f"admin:remedies_{model}_changelist"))
    assert response.status_code == 200


def test_admin_authority_rule_add_is_audited(admin_client_):
    response = admin_client_.post(
        reverse("admin:remedies_authorityrule_add"),
        {
            "role": "agent",
            "kind": kind("voucher").pk,
            "allowed": "on",
            "max_per_remedy": "25.00",
            "max_per_case": "",
            "max_per_customer": "",
            "period_days": "",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    rule = AuthorityRule.objects.get()
    change = AuthorityChange.objects.get()
    assert change.source == "admin"
    assert change.data["rule_id"] == rule.pk
    assert change.actor.username == "root"


def test_admin_remedy_is_read_only(admin_client_, org):
    remedy = remedy_make(case=org.case)
    response = admin_client_.post(
        reverse("admin:remedies_remedy_change", args=[remedy.pk]), {"status": "issued"}
    )
    assert response.status_code == 403

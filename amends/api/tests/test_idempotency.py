"""Idempotency-Key on API POSTs (the mechanism is amends/core/idempotency.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from amends.accounts.choices import Role
from amends.accounts.tests.factories import TeamFactory, UserFactory
from amends.cases.models import Case, Message
from amends.cases.tests.factories import CaseFactory
from amends.core.idempotency import idempotency_sweep
from amends.core.models import IdempotencyKey
from amends.customers.models import Customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent():
    return UserFactory(role=Role.AGENT, team=TeamFactory(name="Recovery"))


def _post(api, path: str, data: dict, key: str):
    return api.client.post(path, data, content_type="application/json", HTTP_IDEMPOTENCY_KEY=key)


def test_a_retried_create_replays_the_first_answer_and_creates_once(api_client_for, agent) -> None:
    api = api_client_for(agent)
    first = _post(api, "/api/v1/customers", {"name": "Ann"}, "key-1")
    again = _post(api, "/api/v1/customers", {"name": "Ann"}, "key-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Customer.objects.count() == 1


@pytest.mark.parametrize(
    ("path", "payload", "model"),
    [
        ("/api/v1/cases", {"customer": {"name": "Ann"}, "title": "Down"}, Case),
        ("CASE/messages", {"direction": "internal", "body": "Noted"}, Message),
    ],
)
def test_every_creating_post_is_idempotent(api_client_for, agent, path, payload, model) -> None:
    case = CaseFactory(team=agent.staff.team)
    path = path.replace("CASE", f"/api/v1/cases/{case.ref}")
    api = api_client_for(agent)
    before = model.objects.count()
    answers = [_post(api, path, payload, "retry-me") for _ in range(3)]
    assert {a.status_code for a in answers} == {201}
    assert model.objects.count() == before + 1


def test_the_same_key_with_another_body_is_422(api_client_for, agent) -> None:
    api = api_client_for(agent)
    assert _post(api, "/api/v1/customers", {"name": "Ann"}, "k").status_code == 201
    r = _post(api, "/api/v1/customers", {"name": "Bob"}, "k")
    assert r.status_code == 422
    assert r.json()["code"] == "idempotency_key_reused"
    assert list(Customer.objects.values_list("name", flat=True)) == ["Ann"]


def test_a_refusal_is_replayed_with_its_status(api_client_for, agent) -> None:
    api = api_client_for(agent)
    first = _post(api, "/api/v1/customers", {"name": ""}, "bad")
    again = _post(api, "/api/v1/customers", {"name": ""}, "bad")
    assert first.status_code == again.status_code == 422
    assert again.json() == first.json()


def test_keys_are_per_client(api_client_for, agent) -> None:
    other = UserFactory(role=Role.AGENT, team=agent.staff.team)
    a = _post(api_client_for(agent), "/api/v1/customers", {"name": "Ann"}, "shared")
    b = _post(api_client_for(other), "/api/v1/customers", {"name": "Ann"}, "shared")
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] != b.json()["id"]


def test_session_users_get_idempotency_too(agent) -> None:
    client = Client()
    client.force_login(agent)
    answers = [
        client.post(
            "/api/v1/customers",
            {"name": "Ann"},
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="s-1",
        )
        for _ in range(2)
    ]
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[1]["Idempotent-Replayed"] == "true"
    assert Customer.objects.count() == 1


def test_a_request_still_running_answers_409(api_client_for, agent) -> None:
    api = api_client_for(agent)
    assert _post(api, "/api/v1/customers", {"name": "Ann"}, "slow").status_code == 201
    IdempotencyKey.objects.update(status_code=None)  # as if the first were still running
    r = _post(api, "/api/v1/customers", {"name": "Ann"}, "slow")
    assert r.status_code == 409
    assert r.json()["code"] == "idempotency_in_progress"


@pytest.mark.parametrize("key", ["", "x" * 256, "has space", "é"])
def test_a_malformed_key_is_422(api_client_for, agent, key) -> None:
    r = _post(api_client_for(agent), "/api/v1/customers", {"name": "Ann"}, key)
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_idempotency_key"
    assert not Customer.objects.exists()


def test_keys_expire_and_the_sweep_deletes_them(api_client_for, agent, settings) -> None:
    settings.AMENDS = {**settings.AMENDS, "IDEMPOTENCY_KEY_HOURS": 24}
    api = api_client_for(agent)
    assert _post(api, "/api/v1/customers", {"name": "Ann"}, "old").status_code == 201
    later = timezone.now() + timedelta(hours=25)
    assert idempotency_sweep(now=timezone.now()) == 0
    assert idempotency_sweep(now=later) == 1
    assert idempotency_sweep(now=later) == 0
    with time_machine.travel(later, tick=False):
        # Expired: the key is free again, so the same request creates anew.
        assert _post(api, "/api/v1/customers", {"name": "Ann"}, "old").status_code == 201
    assert Customer.objects.count() == 2


def test_without_a_key_nothing_is_stored(api_client_for, agent) -> None:
    api = api_client_for(agent)
    assert api.post("/api/v1/customers", {"name": "Ann"}).status_code == 201
    assert not IdempotencyKey.objects.exists()

"""Idempotency-Key on API POSTs (the mechanism is amends/core/idempotency.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import User
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


def test_a_form_body_is_fingerprinted_by_its_fields(api_client_for, agent) -> None:
    """The request guard has already read a multipart body as form fields: no 500, and a
    retry is still told apart from another body."""
    api = api_client_for(agent)
    path = "/api/v1/notifications/read-all"
    bare = [
        api.client.generic("POST", path, b"", "multipart/form-data", HTTP_IDEMPOTENCY_KEY="mp")
        for _ in range(2)
    ]
    assert bare[0].status_code < 500
    assert bare[1].status_code == bare[0].status_code
    assert bare[1]["Idempotent-Replayed"] == "true"
    first = api.client.post(path, {"note": "a"}, HTTP_IDEMPOTENCY_KEY="form")
    again = api.client.post(path, {"note": "a"}, HTTP_IDEMPOTENCY_KEY="form")
    other = api.client.post(path, {"note": "b"}, HTTP_IDEMPOTENCY_KEY="form")
    assert first.status_code < 500
    assert again["Idempotent-Replayed"] == "true"
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"


# ---- the floors above remedies and commitments ------------------------------------------------


def _lost_customer(manager):
    from decimal import Decimal

    from amends.customers.tests.factories import CustomerFactory
    from amends.loyalty.services.status import loyalty_status_change
    from amends.remedies.tests.factories import AuthorityRuleFactory, kind

    AuthorityRuleFactory(role=Role.MANAGER, kind=kind("refund"), max_per_remedy=Decimal("50"))
    customer = CustomerFactory(email="gone@example.com")
    loyalty_status_change(customer=customer, status="lost", reason="Price", actor=manager)


def _incident(supervisor):
    from amends.incidents.services.incidents import incident_create

    return incident_create(
        title="Network down",
        kind="network_outage",
        magnitude="60",
        started_at=timezone.now() - timedelta(hours=2),
        severity=2,
        actor=supervisor,
    )


def _new_app_post(name: str, org: dict):
    """(user, path, body, another body, model) for one creating POST of a newer app."""
    from amends.channels.models import PortalLink, WebhookEndpoint
    from amends.feedback.models import Compliment, SecondLook, StaffReview
    from amends.incidents.models import Incident, IncidentUpdate
    from amends.insight.models import ApologyCheck
    from amends.loyalty.models import Campaign

    agent, supervisor, manager, admin, case = (
        org[k] for k in ("agent", "supervisor", "manager", "admin", "case")
    )
    if name == "incident":
        body = {
            "title": "Flight AB1 delayed",
            "kind": "flight_delay",
            "magnitude": "200",
            "started_at": (timezone.now() - timedelta(hours=4)).isoformat(),
            "severity": 2,
        }
        return supervisor, "/api/v1/incidents", body, {**body, "title": "Other"}, Incident
    if name == "incident-update":
        path = f"/api/v1/incidents/{_incident(supervisor).pk}/updates"
        return supervisor, path, {"body": "On site"}, {"body": "Fixed"}, IncidentUpdate
    if name == "compliment":
        body = {"staff": agent.username, "text": "Kind and quick"}
        return supervisor, "/api/v1/compliments", body, {**body, "text": "Again"}, Compliment
    if name == "second-look":
        path = f"/api/v1/cases/{case.ref}/second-looks"
        body = {"subject": "draft_reply", "draft": "We are sorry.", "reviewer": supervisor.username}
        return agent, path, body, {**body, "draft": "Sorry again."}, SecondLook
    if name == "staff-review":
        body = {"case": case.ref, "staff": agent.username, "complaint": "Rude on the phone"}
        return supervisor, "/api/v1/staff-reviews", body, {**body, "complaint": "Late"}, StaffReview
    if name == "portal-link":
        path = f"/api/v1/cases/{case.ref}/portal-links"
        return agent, path, {"days": 7}, {"days": 8}, PortalLink
    if name == "webhook":
        body = {"name": "CRM", "url": "https://crm.example.com/hook"}
        return admin, "/api/v1/webhooks", body, {**body, "name": "ERP"}, WebhookEndpoint
    if name == "campaign":
        _lost_customer(manager)
        body = {
            "name": "Win back",
            "remedy_kind": "refund",
            "amount": "20.00",
            "currency": "USD",
            "budget": "100",
            "subject": "We miss you",
            "body": "Here is 20 off.",
        }
        return manager, "/api/v1/loyalty/campaigns", body, {**body, "name": "Other"}, Campaign
    assert name == "apology-check"
    body = {"draft": "We apologise if you were upset.", "case": case.ref}
    return agent, "/api/v1/insight/apology-check", body, {**body, "draft": "Sorry."}, ApologyCheck


NEW_APP_POSTS = [
    "incident",
    "incident-update",
    "compliment",
    "second-look",
    "staff-review",
    "portal-link",
    "webhook",
    "campaign",
    "apology-check",
]


@pytest.mark.parametrize("name", NEW_APP_POSTS)
def test_creating_posts_of_the_newer_apps_are_idempotent(api_client_for, name) -> None:
    team = TeamFactory(name="Care")
    org: dict[str, User | Case] = {
        "agent": UserFactory(username="alice", role=Role.AGENT, team=team),
        "supervisor": UserFactory(username="sam", role=Role.SUPERVISOR, team=team),
        "manager": UserFactory(username="maria", role=Role.MANAGER, team=None),
        "admin": UserFactory(username="ada", role=Role.ADMIN, team=None),
    }
    org["case"] = CaseFactory(team=team, assignee=org["agent"])
    user, path, body, other, model = _new_app_post(name, org)
    api = api_client_for(user)
    before = model.objects.count()
    first = _post(api, path, body, f"{name}-1")
    assert first.status_code in (200, 201), first.content
    again = _post(api, path, body, f"{name}-1")
    assert again.status_code == first.status_code
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert model.objects.count() == before + 1
    reused = _post(api, path, other, f"{name}-1")
    assert reused.status_code == 422
    assert reused.json()["code"] == "idempotency_key_reused"
    assert model.objects.count() == before + 1
    fresh = _post(api, path, other, f"{name}-2")  # a new key is a new request
    assert fresh.status_code in (200, 201), fresh.content
    assert model.objects.count() == before + 2


def test_every_post_documents_the_optional_idempotency_key_header() -> None:
    schema = Client().get("/api/v1/openapi.json").json()
    posts = [
        (path, operations["post"])
        for path, operations in schema["paths"].items()
        if "post" in operations
    ]
    assert len(posts) > 50
    for path, operation in posts:
        headers = [p for p in operation.get("parameters", []) if p["in"] == "header"]
        assert [(p["name"], p["required"]) for p in headers] == [("Idempotency-Key", False)], path
        assert headers[0]["schema"]["maxLength"] == 255
        assert {"409", "422"} <= set(operation["responses"]), path
    gets = [ops["get"] for ops in schema["paths"].values() if "get" in ops]
    assert not any(p["in"] == "header" for op in gets for p in op.get("parameters", []))

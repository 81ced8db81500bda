"""Issue 15 reproductions, each a regression test (the suite runs on SQLite and PostgreSQL).

Every bad input here must answer a 4xx in the documented error shape and write nothing.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.test import Client

from amends.accounts.choices import Role
from amends.accounts.tests.factories import TeamFactory, UserFactory
from amends.cases.models import Case, Message
from amends.cases.tests.factories import CaseFactory
from amends.commitments.models import Commitment, Escalation, Notification
from amends.commitments.tests.factories import CommitmentFactory
from amends.customers.models import Customer
from amends.remedies.models import AuthorityRule, ChoiceMenu, Remedy
from amends.remedies.tests.conftest import org  # noqa: F401  # the remedies fixture
from amends.remedies.tests.factories import AuthorityRuleFactory, kind

pytestmark = pytest.mark.django_db

FAR_FUTURE = "9999-12-31T23:59:59-14:00"
FAR_PAST = "0001-01-01T00:00:00+14:00"


def _error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"code", "message", "detail"}
    if code is not None:
        assert body["code"] == code
    return body


@pytest.fixture
def team_agent():
    return UserFactory(role=Role.AGENT, team=TeamFactory(name="Recovery"))


def _soon() -> str:
    return (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0).isoformat()


# ---- 1. datetimes outside what the database can store ---------------------------------------


@pytest.mark.parametrize("due_at", [FAR_FUTURE, "10000-01-01T00:00:00Z", FAR_PAST, 0, 4102444800])
def test_commitment_create_refuses_a_due_time_outside_the_window(
    api_client_for, team_agent, due_at
) -> None:
    case = CaseFactory(team=team_agent.staff.team)
    api = api_client_for(team_agent)
    r = api.post(
        f"/api/v1/cases/{case.ref}/commitments",
        {"kind": "callback", "description": "Call", "owner": team_agent.username, "due_at": due_at},
    )
    body = _error(r, 422, "invalid_input")
    assert "due_at" in body["detail"]
    assert not Commitment.objects.exists()
    # Nothing unreadable was stored: the lists still answer.
    assert api.get("/api/v1/commitments").status_code == 200
    assert api.get(f"/api/v1/cases/{case.ref}").status_code == 200


def test_commitment_reschedule_refuses_a_far_future_time_and_changes_nothing(
    api_client_for, team_agent
) -> None:
    case = CaseFactory(team=team_agent.staff.team)
    commitment = CommitmentFactory(case=case, owner=team_agent)
    due_before = commitment.due_at
    r = api_client_for(team_agent).post(
        f"/api/v1/commitments/{commitment.pk}/reschedule",
        {"due_at": FAR_FUTURE, "reason": "Later"},
    )
    _error(r, 422, "invalid_input")
    commitment.refresh_from_db()
    assert commitment.due_at == due_before


@pytest.mark.parametrize("param", ["since", "until"])
def test_remedy_report_refuses_a_date_outside_the_window(api_client_for, org, param) -> None:  # noqa: F811
    r = api_client_for(org.manager).get("/api/v1/reports/remedies", **{param: FAR_PAST})
    _error(r, 422, "invalid_input")


def test_commitment_web_form_refuses_a_far_future_time(client: Client, team_agent) -> None:
    case = CaseFactory(team=team_agent.staff.team)
    client.force_login(team_agent)
    r = client.post(
        f"/cases/{case.ref}/commitments/",
        {
            "kind": "callback",
            "description": "Call back",
            "owner": team_agent.pk,
            "due_at": "9999-12-31T23:59",
        },
    )
    assert r.status_code < 500
    assert not Commitment.objects.exists()


# ---- 2. amounts checked before arithmetic ---------------------------------------------------


@pytest.mark.parametrize("amount", ["1e26", 1e26, "1_000", "NaN", "Infinity", "1e-30", True])
def test_remedy_propose_refuses_a_bad_amount_with_422(api_client_for, org, amount) -> None:  # noqa: F811
    r = api_client_for(org.agent).post(
        f"/api/v1/cases/{org.case.ref}/remedies",
        {"kind": "refund", "amount": amount, "currency": "USD", "reason": "Outage"},
    )
    assert r.status_code == 422, r.content
    assert not Remedy.objects.exists()


def test_remedy_menu_refuses_a_huge_amount_with_422(api_client_for, org) -> None:  # noqa: F811
    r = api_client_for(org.agent).post(
        f"/api/v1/cases/{org.case.ref}/remedy-menus",
        {
            "options": [
                {"kind": "refund", "amount": "1e26", "currency": "USD"},
                {"kind": "refund", "amount": "10.00", "currency": "USD"},
            ]
        },
    )
    assert r.status_code == 422, r.content
    assert not ChoiceMenu.objects.exists()


@pytest.mark.parametrize("amount", ["1e26", "1_000", "9" * 60])
def test_remedy_web_forms_refuse_a_huge_amount(client: Client, org, amount) -> None:  # noqa: F811
    client.force_login(org.agent)
    client.defaults["HTTP_HX_REQUEST"] = "true"  # htmx posts get the error status itself
    r = client.post(
        f"/cases/{org.case.ref}/remedies/propose/",
        {"kind": "refund", "amount": amount, "currency": "USD", "reason": "Outage"},
    )
    assert 400 <= r.status_code < 500
    r = client.post(
        f"/cases/{org.case.ref}/remedies/menus/",
        {
            "option-0-kind": "refund",
            "option-0-amount": amount,
            "option-0-currency": "USD",
            "option-1-kind": "refund",
            "option-1-amount": "5",
            "option-1-currency": "USD",
        },
    )
    assert 400 <= r.status_code < 500
    assert not Remedy.objects.exists()


def test_authority_rule_refuses_a_huge_limit(api_client_for, org) -> None:  # noqa: F811
    admin = UserFactory(role=Role.ADMIN, team=None)
    before = AuthorityRule.objects.count()
    r = api_client_for(admin).put(
        "/api/v1/authority/rules",
        {"role": "agent", "kind": "refund", "max_per_remedy": "1e26"},
    )
    _error(r, 422)
    assert AuthorityRule.objects.count() == before


# ---- 3. NUL characters ----------------------------------------------------------------------


def test_nul_in_remedy_commitment_and_escalation_text_is_422(api_client_for, org) -> None:  # noqa: F811
    api = api_client_for(org.agent)
    ref = org.case.ref
    attempts = [
        (
            f"/api/v1/cases/{ref}/remedies",
            {"kind": "refund", "amount": "5", "currency": "USD", "reason": "a\x00b"},
        ),
        (
            f"/api/v1/cases/{ref}/commitments",
            {
                "kind": "callback",
                "description": "a\x00b",
                "owner": org.agent.username,
                "due_at": _soon(),
            },
        ),
        (f"/api/v1/cases/{ref}/escalations", {"level": "supervisor", "note": "a\x00b"}),
    ]
    for path, payload in attempts:
        _error(api.post(path, payload), 422, "invalid_input")
    assert not Remedy.objects.exists()
    assert not Commitment.objects.exists()
    assert not Escalation.objects.exists()


def test_nul_in_escalation_decision_is_422(api_client_for, org) -> None:  # noqa: F811
    api = api_client_for(org.agent)
    raised = api.post(f"/api/v1/cases/{org.case.ref}/escalations", {"note": "Help"})
    assert raised.status_code == 201, raised.content
    r = api_client_for(org.supervisor).post(
        f"/api/v1/escalations/{raised.json()['id']}/decide", {"decision": "ok\x00"}
    )
    _error(r, 422, "invalid_input")
    assert Escalation.objects.get().decision == ""


def test_nul_in_path_query_and_form_fields_is_refused(client: Client, api_client_for, org) -> None:  # noqa: F811
    api = api_client_for(org.agent)
    _error(api.get("/api/v1/escalations", status="open\x00"), 422, "invalid_input")
    _error(api.get("/api/v1/cases/AMD-1%00"), 404, "not_found")
    client.force_login(org.agent)
    r = client.post(
        f"/cases/{org.case.ref}/remedies/menus/",
        {"option-0-kind": "refund", "option-0-description": "x\x00", "note": "n"},
    )
    assert r.status_code == 422
    assert not ChoiceMenu.objects.exists()


# ---- 4. request errors as JSON 4xx ----------------------------------------------------------


def test_a_body_over_the_upload_limit_is_413_json(api_client_for, team_agent) -> None:
    api = api_client_for(team_agent)
    big = json.dumps({"name": "x" * (3 * 1024 * 1024)})
    r = api.client.post("/api/v1/customers", big, content_type="application/json")
    _error(r, 413, "too_large")
    assert not Customer.objects.exists()


def test_a_form_body_over_the_upload_limit_is_413(client: Client, team_agent) -> None:
    client.force_login(team_agent)
    r = client.post("/cases/new/", {"title": "x" * (3 * 1024 * 1024)})
    assert r.status_code == 413
    assert not Case.objects.exists()


def test_a_huge_query_string_is_414_json(api_client_for, team_agent) -> None:
    r = api_client_for(team_agent).client.get("/api/v1/cases?q=" + "a" * 100_000)
    _error(r, 414, "uri_too_long")


# ---- 5. escalation assignees must see the case ----------------------------------------------


def test_escalation_to_another_teams_supervisor_is_refused(api_client_for, org) -> None:  # noqa: F811
    r = api_client_for(org.agent).post(
        f"/api/v1/cases/{org.case.ref}/escalations",
        {"note": "Please look", "assignee": org.other_supervisor.username},
    )
    body = _error(r, 422, "invalid_assignee")
    assert "assignee" in body["detail"]
    assert not Escalation.objects.exists()
    assert not Notification.objects.filter(recipient=org.other_supervisor).exists()


def test_an_assignee_who_cannot_see_the_case_does_not_see_its_escalation(
    api_client_for,
    org,  # noqa: F811
) -> None:
    # An escalation assigned before the case moved team: the old assignee loses it too.
    raised = api_client_for(org.agent).post(
        f"/api/v1/cases/{org.case.ref}/escalations", {"note": "Look", "assignee": "sam"}
    )
    assert raised.status_code == 201, raised.content
    Case.objects.filter(pk=org.case.pk).update(team=org.other_team)
    api = api_client_for(org.supervisor)
    assert api.get("/api/v1/escalations", mine="true").json()["items"] == []
    r = api.post(f"/api/v1/escalations/{raised.json()['id']}/decide", {"decision": "Done"})
    _error(r, 404, "not_found")


# ---- 8. strict input types and the rest -----------------------------------------------------


@pytest.mark.parametrize("value", [0, 1, "yes", None])
def test_awaiting_customer_must_be_a_boolean(api_client_for, team_agent, value) -> None:
    case = CaseFactory(team=team_agent.staff.team)
    r = api_client_for(team_agent).post(
        f"/api/v1/cases/{case.ref}/messages",
        {"direction": "internal", "body": "Note", "awaiting_customer": value},
    )
    _error(r, 422, "invalid_input")
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    "extra",
    [
        {"contract_end_date": 0},
        {"contract_end_date": "0001-01-01"},
        {"special_handling": 0},
        {"name": 5},
    ],
)
def test_customer_create_refuses_coerced_values(api_client_for, team_agent, extra) -> None:
    r = api_client_for(team_agent).post("/api/v1/customers", {"name": "Ann", **extra})
    _error(r, 422, "invalid_input")
    assert not Customer.objects.exists()


@pytest.mark.parametrize("severity", ["1_0", 2.0, True, "2"])
def test_case_create_refuses_a_coerced_severity(api_client_for, team_agent, severity) -> None:
    r = api_client_for(team_agent).post(
        "/api/v1/cases", {"customer": {"name": "Ann"}, "title": "Down", "severity": severity}
    )
    if severity == "2":  # text digits stay valid (query strings need them)
        assert r.status_code == 201, r.content
    else:
        _error(r, 422, "invalid_input")


def test_an_agent_sees_only_role_rules_and_their_own_overrides(api_client_for, org) -> None:  # noqa: F811
    refund = kind("refund")
    AuthorityRuleFactory(
        user=org.supervisor, role="", kind=refund, max_per_remedy=Decimal("900.00")
    )
    AuthorityRuleFactory(user=org.agent, role="", kind=refund, max_per_remedy=Decimal("60.00"))
    seen = api_client_for(org.agent).get("/api/v1/authority/rules").json()
    people = {rule["user"] for rule in seen}
    assert people == {None, org.agent.username}
    seen = api_client_for(org.supervisor).get("/api/v1/authority/rules").json()
    assert {rule["user"] for rule in seen} == {None, org.agent.username, org.supervisor.username}


def test_openapi_documents_400_on_customer_create(client: Client) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    assert "400" in schema["paths"]["/api/v1/customers"]["post"]["responses"]


def test_bearer_scheme_is_case_insensitive(api_client_for, team_agent) -> None:
    api = api_client_for(team_agent)
    r = Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"bearer {api.token}")
    assert r.status_code == 200

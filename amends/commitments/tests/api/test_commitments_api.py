from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth.models import User

from amends.accounts.choices import Role
from amends.accounts.tests.factories import TeamFactory, UserFactory
from amends.cases.tests.factories import CaseFactory
from amends.commitments.models import Commitment, Escalation
from amends.commitments.sweeps import commitment_sweep
from amends.commitments.tests.factories import CommitmentFactory

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def agent():
    return UserFactory(role=Role.AGENT, team=TeamFactory(name="Recovery"))


def test_commitment_create_endpoint_answers_201(api_client_for, agent) -> None:
    case = CaseFactory(team=agent.staff.team)
    api = api_client_for(agent)
    due = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    r = api.post(
        f"/api/v1/cases/{case.ref}/commitments",
        {
            "kind": "rebate",
            "description": "One month free",
            "owner": agent.username,
            "due_at": due.isoformat(),
        },
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["status"] == "open"
    assert body["id"] == Commitment.objects.get().pk
    assert datetime.fromisoformat(body["due_at"]) == due


@pytest.mark.parametrize(
    ("owner", "due_delta", "code"),
    [
        ("agent", -1, "due_in_past"),
        ("outsider", 2, "invalid_owner"),
        ("nobody", 2, "invalid_owner"),
    ],
)
def test_commitment_create_endpoint_refuses_bad_input(
    api_client_for, agent, owner, due_delta, code
) -> None:
    User.objects.create_user("outsider", password="pw")
    case = CaseFactory(team=agent.staff.team)
    username = agent.username if owner == "agent" else owner
    r = api_client_for(agent).post(
        f"/api/v1/cases/{case.ref}/commitments",
        {
            "kind": "refund",
            "description": "Refund",
            "owner": username,
            "due_at": (datetime.now(UTC) + timedelta(days=due_delta)).isoformat(),
        },
    )
    assert r.status_code == 422
    assert r.json()["code"] == code
    assert not Commitment.objects.exists()


def test_commitment_keep_endpoint_refuses_cancelled(api_client_for, agent) -> None:
    promise = CommitmentFactory(case=CaseFactory(team=agent.staff.team), owner=agent)
    api = api_client_for(agent)
    r = api.post(
        f"/api/v1/commitments/{promise.pk}/cancel",
        {"reason": "Withdrawn", "customer_informed": True},
    )
    assert r.status_code == 200
    assert r.json()["status"] == "cancelled"
    r = api.post(f"/api/v1/commitments/{promise.pk}/keep", {"note": "done"})
    assert r.status_code == 409
    assert r.json()["code"] == "commitment_not_open"


def test_commitment_reschedule_endpoint_moves_due_time(api_client_for, agent) -> None:
    promise = CommitmentFactory(case=CaseFactory(team=agent.staff.team), owner=agent)
    new_due = (datetime.now(UTC) + timedelta(days=4)).replace(microsecond=0)
    r = api_client_for(agent).post(
        f"/api/v1/commitments/{promise.pk}/reschedule",
        {"due_at": new_due.isoformat(), "reason": "Parts late"},
    )
    assert r.status_code == 200
    assert datetime.fromisoformat(r.json()["due_at"]) == new_due
    assert promise.due_changes.count() == 1


def test_commitment_list_endpoint_filters_state_and_owner(
    api_client_for, agent, django_assert_num_queries
) -> None:
    other = UserFactory(team=agent.staff.team)
    with time_machine.travel(NOW, tick=False):
        case = CaseFactory(team=agent.staff.team)
        soon = CommitmentFactory(case=case, owner=agent, due_at=NOW + timedelta(minutes=30))
        CommitmentFactory(case=case, owner=agent, due_at=NOW + timedelta(days=3))
        CommitmentFactory(case=case, owner=other, due_at=NOW + timedelta(minutes=20))
        api = api_client_for(agent)
        r = api.get("/api/v1/commitments", state="due_soon", owner=agent.username)
        assert [c["id"] for c in r.json()["items"]] == [soon.pk]
        assert len(api.get("/api/v1/commitments", state="open").json()["items"]) == 3
        # token + user (1), owner lookup (1), one page of promises with case and owner (1),
        # their due-time histories (1)
        with django_assert_num_queries(4):
            api.get("/api/v1/commitments", state="open", owner=agent.username)
        assert api.get("/api/v1/commitments", state="bogus").status_code == 422


def test_commitment_list_endpoint_hides_other_teams(api_client_for, agent) -> None:
    stranger = UserFactory(team=TeamFactory(name="Elsewhere"))
    CommitmentFactory(case=CaseFactory(team=stranger.staff.team), owner=stranger)
    r = api_client_for(agent).get("/api/v1/commitments")
    assert r.json()["items"] == []


def test_escalation_decide_endpoint_refuses_second_decision(api_client_for, agent) -> None:
    supervisor = UserFactory(role=Role.SUPERVISOR, team=agent.staff.team)
    case = CaseFactory(team=agent.staff.team, assignee=agent)
    r = api_client_for(agent).post(
        f"/api/v1/cases/{case.ref}/escalations",
        {"level": "supervisor", "note": "Customer threatens to leave"},
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["assignee"] == supervisor.username
    api = api_client_for(supervisor)
    mine = api.get("/api/v1/escalations", mine="true").json()["items"]
    assert [e["id"] for e in mine] == [body["id"]]
    r = api.post(f"/api/v1/escalations/{body['id']}/decide", {"decision": "Offer a full refund"})
    assert r.status_code == 200
    assert r.json()["status"] == "decided"
    r = api.post(f"/api/v1/escalations/{body['id']}/decide", {"decision": "Something else"})
    assert r.status_code == 409
    assert r.json()["code"] == "already_decided"
    assert Escalation.objects.get().decision == "Offer a full refund"


def test_promise_measures_endpoint_reports_kept_broken_and_decisions(api_client_for) -> None:
    team = TeamFactory(name="Billing")
    manager = UserFactory(role=Role.MANAGER, team=team)
    agent = UserFactory(team=team)
    with time_machine.travel(NOW, tick=False):
        case = CaseFactory(team=team, assignee=agent)
        kept = CommitmentFactory(case=case, owner=agent, due_at=NOW + timedelta(hours=1))
        CommitmentFactory(case=case, owner=agent, due_at=NOW + timedelta(hours=2))
    from amends.commitments.services.commitments import commitment_keep
    from amends.commitments.services.escalations import escalation_decide

    with time_machine.travel(NOW + timedelta(minutes=30), tick=False):
        commitment_keep(commitment=kept, actor=agent, note="Credited")
    later = NOW + timedelta(hours=3)
    with time_machine.travel(later, tick=False):
        commitment_sweep(now=later)
    with time_machine.travel(later + timedelta(minutes=90), tick=False):
        escalation_decide(
            escalation=Escalation.objects.get(), decision="Goodwill credit", actor=manager
        )
    body = api_client_for(manager).get("/api/v1/measures/promises").json()
    assert body["kept"] == 1
    assert body["broken"] == 1
    assert body["kept_on_time_pct"] == 50.0
    assert body["broken_per_team"] == [{"name": "Billing", "broken": 1}]
    assert body["broken_per_person"] == [{"name": agent.username, "broken": 1}]
    supervisor_level = next(x for x in body["decision_by_level"] if x["level"] == "supervisor")
    assert supervisor_level == {"level": "supervisor", "decided": 1, "median_seconds": 90 * 60}


def test_commitment_reschedule_endpoint_returns_every_due_time(api_client_for, agent) -> None:
    first = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    second = first + timedelta(days=2)
    third = first + timedelta(days=5)
    promise = CommitmentFactory(case=CaseFactory(team=agent.staff.team), owner=agent, due_at=first)
    api = api_client_for(agent)
    api.post(
        f"/api/v1/commitments/{promise.pk}/reschedule",
        {"due_at": second.isoformat(), "reason": "Parts late"},
    )
    r = api.post(
        f"/api/v1/commitments/{promise.pk}/reschedule",
        {"due_at": third.isoformat(), "reason": "Engineer ill"},
    )
    assert r.status_code == 200
    history = r.json()["due_history"]
    assert [
        (datetime.fromisoformat(h["previous_due_at"]), datetime.fromisoformat(h["new_due_at"]))
        for h in history
    ] == [(first, second), (second, third)]
    assert [h["reason"] for h in history] == ["Parts late", "Engineer ill"]
    listed = api.get("/api/v1/commitments", state="open").json()["items"][0]
    assert len(listed["due_history"]) == 2


def test_escalation_raise_endpoint_refuses_agent_as_executive_assignee(
    api_client_for, agent
) -> None:
    case = CaseFactory(team=agent.staff.team)
    r = api_client_for(agent).post(
        f"/api/v1/cases/{case.ref}/escalations",
        {"level": "executive", "note": "Approve myself", "assignee": agent.username},
    )
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_assignee"
    assert not Escalation.objects.exists()


def test_commitment_create_endpoint_refuses_unknown_remedy(api_client_for, agent) -> None:
    case = CaseFactory(team=agent.staff.team)
    r = api_client_for(agent).post(
        f"/api/v1/cases/{case.ref}/commitments",
        {
            "kind": "rebate",
            "description": "Rebate",
            "owner": agent.username,
            "due_at": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
            "remedy_id": 424242,
        },
    )
    assert r.status_code == 422
    assert r.json()["detail"]["remedy_id"]
    assert not Commitment.objects.exists()


def test_promise_measures_endpoint_counts_only_visible_cases(api_client_for, agent) -> None:
    from amends.commitments.services.escalations import escalation_decide, escalation_raise

    elsewhere = TeamFactory(name="Elsewhere")
    stranger = UserFactory(team=elsewhere)
    manager = UserFactory(role=Role.MANAGER, team=None)
    with time_machine.travel(NOW, tick=False):
        escalation = escalation_raise(
            case=CaseFactory(team=elsewhere), level="supervisor", note="x", actor=stranger
        )
        escalation_decide(escalation=escalation, decision="Yes", actor=manager)
    body = api_client_for(agent).get("/api/v1/measures/promises").json()
    assert all(row["decided"] == 0 for row in body["decision_by_level"])
    managers = api_client_for(manager).get("/api/v1/measures/promises").json()
    assert managers["decision_by_level"][0] == {
        "level": "supervisor",
        "decided": 1,
        "median_seconds": 0,
    }

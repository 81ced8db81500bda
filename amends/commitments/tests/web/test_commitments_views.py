from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from amends.accounts.choices import Role
from amends.accounts.tests.factories import TeamFactory, UserFactory
from amends.cases.tests.factories import CaseFactory
from amends.commitments.models import Commitment, Escalation
from amends.commitments.services.notifications import NotificationSpec, notifications_create
from amends.commitments.tests.factories import CommitmentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent():
    return UserFactory(role=Role.AGENT, team=TeamFactory(name="Web team"))


@pytest.fixture
def client_for():
    def make(user):
        c = Client()
        c.force_login(user)
        return c

    return make


def test_commitment_create_view_adds_promise_and_returns_panel(client_for, agent) -> None:
    case = CaseFactory(team=agent.staff.team)
    due = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    r = client_for(agent).post(
        f"/cases/{case.ref}/commitments/",
        {
            "kind": "callback",
            "description": "Call back Tuesday",
            "owner": agent.pk,
            "due_at": due,
            "customer_visible": "on",
        },
        HTTP_HX_REQUEST="true",
    )
    assert r.status_code == 200
    assert r["HX-Trigger"] == "caseChanged"
    assert "Call back Tuesday" in r.content.decode()
    assert Commitment.objects.get().owner == agent


def test_commitment_create_view_shows_error_for_past_due(client_for, agent) -> None:
    case = CaseFactory(team=agent.staff.team)
    r = client_for(agent).post(
        f"/cases/{case.ref}/commitments/",
        {"kind": "callback", "description": "x", "owner": agent.pk, "due_at": "2020-01-01T10:00"},
        HTTP_HX_REQUEST="true",
    )
    assert r.status_code == 422
    assert r["HX-Retarget"] == "#flash"
    assert not Commitment.objects.exists()


def test_promises_due_view_lists_mine_with_traffic_lights(
    client_for, agent, django_assert_num_queries
) -> None:
    case = CaseFactory(team=agent.staff.team)
    for hours in (1, 30, 50):
        CommitmentFactory(
            case=case, owner=agent, due_at=datetime.now(UTC) + timedelta(hours=hours, minutes=-30)
        )
    c = client_for(agent)
    c.get("/promises/")
    # A fixed number of queries (session, user, staff profile, one page of promises with their
    # cases and owners…), however many promises there are: no query per row.
    with django_assert_num_queries(6):
        r = c.get("/promises/")
    html = r.content.decode()
    assert r.status_code == 200
    assert html.count("badge-amber") == 1
    assert html.count("badge-green") == 2


def test_escalation_list_view_shows_escalations_to_me_by_due(client_for, agent) -> None:
    supervisor = UserFactory(role=Role.SUPERVISOR, team=agent.staff.team)
    case = CaseFactory(team=agent.staff.team, title="Lost luggage")
    r = client_for(agent).post(
        f"/cases/{case.ref}/escalations/", {"level": "supervisor", "note": "VIP upset"}
    )
    assert r.status_code == 302
    html = client_for(supervisor).get("/escalations/").content.decode()
    assert "Lost luggage" in html
    esc = Escalation.objects.get()
    r = client_for(supervisor).post(
        f"/escalations/{esc.pk}/decide/", {"decision": "Refund", "from": "list"}
    )
    assert r.status_code == 302
    esc.refresh_from_db()
    assert esc.decision == "Refund"


def test_notification_bell_view_counts_unread(client_for, agent) -> None:
    notifications_create(
        specs=[
            NotificationSpec(
                recipient_id=agent.pk, kind="sla_at_risk", message="At risk", dedupe_key=f"k{i}"
            )
            for i in range(3)
        ]
    )
    c = client_for(agent)
    assert 'data-unread="3"' in c.get("/notifications/bell/").content.decode()
    c.post("/notifications/read-all/")
    assert "data-unread" not in c.get("/notifications/bell/").content.decode()
    assert "At risk" in c.get("/notifications/").content.decode()


def test_promise_measures_view_renders(client_for, agent) -> None:
    r = client_for(agent).get("/promises/measures/")
    assert r.status_code == 200
    assert "kept on time" in r.content.decode()


def test_escalation_list_view_query_count_does_not_grow_with_rows(
    client_for, agent, django_assert_num_queries
) -> None:
    supervisor = UserFactory(role=Role.SUPERVISOR, team=agent.staff.team)
    from amends.commitments.services.escalations import escalation_raise

    c = client_for(supervisor)

    def count_queries() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert c.get("/escalations/").status_code == 200
        return len(ctx.captured_queries)

    escalation_raise(
        case=CaseFactory(team=agent.staff.team), level="supervisor", note="a", actor=agent
    )
    one = count_queries()
    for _ in range(4):
        escalation_raise(
            case=CaseFactory(team=agent.staff.team), level="supervisor", note="b", actor=agent
        )
    with django_assert_num_queries(one):
        assert c.get("/escalations/").content.decode().count("Decide</button>") == 5

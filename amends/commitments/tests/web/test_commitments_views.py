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
from amends.core.formats import format_moment

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
    # cases and owners, their due-time histories…), however many promises: no query per row.
    with django_assert_num_queries(7):
        r = c.get("/promises/")
    html = r.content.decode()
    assert r.status_code == 200
    # The traffic lights use the shared stylesheet's badge classes (amber, green).
    assert html.count("badge-due_soon") == 1
    assert html.count("badge-on_track") == 2


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


def _render_panel(case, user) -> str:
    from django.template import engines
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = user
    template = engines["django"].from_string(
        "{% load commitment_tags %}{% case_commitments_panel case %}"
    )
    return template.render({"case": case}, request)


def _promises_and_escalations(case, agent, n: int) -> None:
    from amends.commitments.services.commitments import commitment_reschedule
    from amends.commitments.services.escalations import escalation_raise

    for i in range(n):
        promise = CommitmentFactory(case=case, owner=agent)
        commitment_reschedule(
            commitment=promise,
            due_at=promise.due_at + timedelta(days=1),
            reason=f"Moved {i}",
            actor=agent,
        )
        escalation_raise(case=case, level="supervisor", note=f"n{i}", actor=agent)


def test_case_commitments_panel_query_count_is_pinned(agent, django_assert_num_queries) -> None:
    UserFactory(role=Role.SUPERVISOR, team=agent.staff.team)
    case = CaseFactory(team=agent.staff.team)
    other = CaseFactory(team=agent.staff.team)
    _promises_and_escalations(case, agent, 1)
    _promises_and_escalations(other, agent, 4)
    viewer = type(agent).objects.select_related("staff").get(pk=agent.pk)
    # promises with owners (1), their due-time histories (1), escalations with people (1),
    # the staff list for the owner menu (1): the same for one row or many.
    with django_assert_num_queries(4):
        _render_panel(case, viewer)
    with django_assert_num_queries(4):
        html = _render_panel(other, viewer)
    assert html.count("Rescheduled 1×") == 4


def test_case_commitments_panel_shows_decide_form_only_to_deciders(agent) -> None:
    supervisor = UserFactory(role=Role.SUPERVISOR, team=agent.staff.team)
    case = CaseFactory(team=agent.staff.team)
    _promises_and_escalations(case, agent, 1)
    assert "/decide/" not in _render_panel(case, agent)
    assert "Waiting for supervisor decision" in _render_panel(case, agent)
    assert "/decide/" in _render_panel(case, supervisor)


def test_case_commitments_panel_shows_due_history_and_escapes_text(agent) -> None:
    case = CaseFactory(team=agent.staff.team)
    promise = CommitmentFactory(case=case, owner=agent, description="<script>x()</script>")
    from amends.commitments.services.commitments import commitment_reschedule

    commitment_reschedule(
        commitment=promise,
        due_at=promise.due_at + timedelta(days=2),
        reason="<b>late</b>",
        actor=agent,
    )
    html = _render_panel(case, agent)
    assert "<script>x()" not in html
    assert "&lt;script&gt;x()&lt;/script&gt;" in html
    assert "&lt;b&gt;late&lt;/b&gt;" in html
    assert format_moment(promise.due_at) in html  # the earlier due time stays visible


def test_notification_bell_view_query_count_is_pinned(
    client_for, agent, django_assert_num_queries
) -> None:
    c = client_for(agent)
    c.get("/notifications/bell/")
    # session (1), user (1), the unread count (1)
    with django_assert_num_queries(3):
        c.get("/notifications/bell/")
    notifications_create(
        specs=[
            NotificationSpec(recipient_id=agent.pk, kind="sla_at_risk", message="m", dedupe_key=k)
            for k in "abcde"
        ]
    )
    with django_assert_num_queries(3):
        assert 'data-unread="5"' in c.get("/notifications/bell/").content.decode()


def test_promise_lists_stack_as_cards_at_phone_width(client_for, agent) -> None:
    CommitmentFactory(case=CaseFactory(team=agent.staff.team), owner=agent)
    html = client_for(agent).get("/promises/").content.decode()
    assert 'class="table table-stack"' in html
    assert 'data-label="Due"' in html


def test_commitment_evidence_view_serves_file_only_to_staff_who_see_case(
    client_for, agent, settings, tmp_path
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = str(tmp_path)
    case = CaseFactory(team=agent.staff.team)
    promise = CommitmentFactory(case=case, owner=agent)
    r = client_for(agent).post(
        f"/commitments/{promise.pk}/keep/",
        {"note": "Posted", "evidence": SimpleUploadedFile("receipt.html", b"<h1>paid</h1>")},
        HTTP_HX_REQUEST="true",
    )
    assert r.status_code == 200
    url = f"/commitments/{promise.pk}/evidence/"
    assert url in r.content.decode()  # the panel links the protected download
    r = client_for(agent).get(url)
    assert r.status_code == 200
    assert r["Content-Type"] == "application/octet-stream"
    assert r["Content-Disposition"].startswith("attachment;")
    assert b"".join(r.streaming_content) == b"<h1>paid</h1>"
    stranger = UserFactory(role=Role.AGENT, team=TeamFactory(name="Elsewhere"))
    assert client_for(stranger).get(url).status_code == 404
    assert Client().get(url).status_code == 302  # to the login page
    # Promises without a file have nothing to download.
    bare = CommitmentFactory(case=case, owner=agent)
    assert client_for(agent).get(f"/commitments/{bare.pk}/evidence/").status_code == 404


def test_case_commitments_panel_offers_only_owners_who_can_see_case(agent) -> None:
    teammate = UserFactory(role=Role.AGENT, team=agent.staff.team)
    stranger = UserFactory(role=Role.AGENT, team=TeamFactory(name="Elsewhere"))
    manager = UserFactory(role=Role.MANAGER, team=None)
    html = _render_panel(CaseFactory(team=agent.staff.team), agent)
    owners = html.split('id="commit-owner"')[1].split("</select>")[0]
    assert f'value="{teammate.pk}"' in owners
    assert f'value="{manager.pk}"' in owners
    assert f'value="{stranger.pk}"' not in owners

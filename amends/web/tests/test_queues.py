from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from amends.accounts.choices import Role
from amends.accounts.tests.factories import TeamFactory, UserFactory
from amends.cases.tests.factories import CaseFactory
from amends.customers.choices import CustomerTier
from amends.customers.tests.factories import CustomerFactory
from amends.web.tests.conftest import htmx, queries_of_other_apps

pytestmark = pytest.mark.django_db

# session, user, staff profile, its team (header), categories and tags (filter), one page of
# cases, the (capped) total; plus whatever the other apps' nav links need.
QUEUE_QUERIES = 8


def test_queue_view_lists_my_open_cases_only(agent: Any, agent_client: Client, team: Any) -> None:
    mine = CaseFactory(team=team, assignee=agent, title="Mine")
    other = CaseFactory(team=team, title="Nobody's")
    response = agent_client.get(reverse("web:queue"))
    assert response.status_code == 200
    body = response.content.decode()
    assert mine.ref in body
    assert other.ref not in body
    assert "<h1>My queue</h1>" in body


def test_queue_view_sorts_by_nearest_sla_due_time(
    agent: Any, agent_client: Client, team: Any
) -> None:
    low = CaseFactory(team=team, assignee=agent, severity=4, title="Low")
    critical = CaseFactory(team=team, assignee=agent, severity=1, title="Critical")
    items = agent_client.get(reverse("web:queue")).context["page"].items
    assert [c.pk for c in items] == [critical.pk, low.pk]


def test_queue_view_marks_breached_and_at_risk_rows(
    agent: Any, agent_client: Client, team: Any
) -> None:
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False):
        case = CaseFactory(team=team, assignee=agent)
    assert case.sla_due_at is not None
    assert case.sla_at_risk_at is not None
    with time_machine.travel(case.sla_due_at + timedelta(minutes=1), tick=False):
        body = agent_client.get(reverse("web:queue")).content.decode()
    assert 'class="row-breached"' in body
    assert 'badge badge-breached">Breached' in body
    with time_machine.travel(case.sla_at_risk_at + timedelta(seconds=1), tick=False):
        body = agent_client.get(reverse("web:queue")).content.decode()
    assert 'class="row-at_risk"' in body
    assert "At risk" in body


def test_queue_view_shows_vip_and_special_handling_markers(
    agent: Any, agent_client: Client, team: Any
) -> None:
    customer = CustomerFactory(
        tier=CustomerTier.VIP, special_handling=True, special_handling_reason="Hard of hearing"
    )
    CaseFactory(team=team, assignee=agent, customer=customer)
    body = agent_client.get(reverse("web:queue")).content.decode()
    assert "badge-vip" in body
    assert "Special handling: Hard of hearing" in body


def test_queue_view_query_count_does_not_grow_with_cases(
    agent: Any, agent_client: Client, team: Any, django_assert_num_queries: Any
) -> None:
    expected = QUEUE_QUERIES + queries_of_other_apps(agent)
    CaseFactory.create_batch(3, team=team, assignee=agent)
    with django_assert_num_queries(expected):
        response = agent_client.get(reverse("web:queue"))
    assert len(response.context["page"].items) == 3
    CaseFactory.create_batch(27, team=team, assignee=agent)
    with django_assert_num_queries(expected):
        response = agent_client.get(reverse("web:queue"))
    assert len(response.context["page"].items) == 25
    assert response.context["page"].has_next


def test_queue_view_paginates_with_page_links(agent: Any, agent_client: Client, team: Any) -> None:
    CaseFactory.create_batch(27, team=team, assignee=agent)
    first = agent_client.get(reverse("web:queue"))
    assert 'rel="next"' in first.content.decode()
    second = agent_client.get(reverse("web:queue"), {"page": 2})
    assert len(second.context["page"].items) == 2
    assert 'rel="prev"' in second.content.decode()
    assert 'rel="next"' not in second.content.decode()


def test_queue_view_filters_by_severity_and_unassigned(
    agent: Any, agent_client: Client, team: Any
) -> None:
    critical = CaseFactory(team=team, severity=1)
    CaseFactory(team=team, severity=3)
    assigned = CaseFactory(team=team, severity=1, assignee=agent)
    url = reverse("web:team-queue", args=[team.pk])
    items = agent_client.get(url, {"severity": "1", "unassigned": "on"}).context["page"].items
    assert [c.pk for c in items] == [critical.pk]
    items = agent_client.get(url, {"severity": "1"}).context["page"].items
    assert {c.pk for c in items} == {critical.pk, assigned.pk}


def test_queue_view_filters_by_sla_state(agent: Any, agent_client: Client, team: Any) -> None:
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False):
        old = CaseFactory(team=team, assignee=agent)
    assert old.sla_due_at is not None
    with time_machine.travel(old.sla_due_at + timedelta(minutes=5), tick=False):
        fresh = CaseFactory(team=team, assignee=agent)
        breached = agent_client.get(reverse("web:queue"), {"sla_state": "breached"})
        on_track = agent_client.get(reverse("web:queue"), {"sla_state": "on_track"})
    assert [c.pk for c in breached.context["page"].items] == [old.pk]
    assert [c.pk for c in on_track.context["page"].items] == [fresh.pk]


def test_queue_view_refuses_an_invalid_filter(agent_client: Client) -> None:
    response = agent_client.get(reverse("web:queue"), {"severity": "9"}, **htmx())
    assert response.status_code == 422
    assert response["HX-Retarget"] == "#flash"
    assert 'data-code="invalid_input"' in response.content.decode()


def test_queue_view_htmx_request_gets_the_results_partial(
    agent: Any, agent_client: Client, team: Any
) -> None:
    case = CaseFactory(team=team, assignee=agent)
    response = agent_client.get(reverse("web:queue"), **htmx())
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<section id="queue-results"')
    assert "<html" not in body
    assert case.ref in body


def test_queue_view_escapes_user_text(agent: Any, agent_client: Client, team: Any) -> None:
    CaseFactory(team=team, assignee=agent, title="<script>alert(1)</script>")
    body = agent_client.get(reverse("web:queue")).content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_team_queue_view_shows_the_team_cases(agent: Any, agent_client: Client, team: Any) -> None:
    case = CaseFactory(team=team)
    response = agent_client.get(reverse("web:team-queue", args=[team.pk]))
    assert response.status_code == 200
    assert case.ref in response.content.decode()


def test_team_queue_view_is_404_for_another_team(agent_client: Client) -> None:
    other = TeamFactory(name="Travel")
    CaseFactory(team=other)
    assert agent_client.get(reverse("web:team-queue", args=[other.pk])).status_code == 404


def test_all_queue_view_is_404_for_agents(agent_client: Client) -> None:
    assert agent_client.get(reverse("web:all-queue")).status_code == 404


def test_all_queue_view_lists_every_team_for_managers(team: Any) -> None:
    manager = UserFactory(role=Role.MANAGER, team=None)
    a = CaseFactory(team=team)
    b = CaseFactory(team=TeamFactory(name="Travel"))
    client = Client()
    client.force_login(manager)
    response = client.get(reverse("web:all-queue"))
    assert response.status_code == 200
    assert {c.pk for c in response.context["page"].items} == {a.pk, b.pk}


def test_team_queues_view_lists_only_my_teams(agent_client: Client, team: Any) -> None:
    TeamFactory(name="Travel")
    body = agent_client.get(reverse("web:team-queues")).content.decode()
    assert "Billing" in body
    assert "Travel" not in body
    assert "All open cases" not in body


def test_team_queues_view_lists_all_teams_for_managers(team: Any) -> None:
    TeamFactory(name="Travel")
    client = Client()
    client.force_login(UserFactory(role=Role.MANAGER, team=None))
    body = client.get(reverse("web:team-queues")).content.decode()
    assert "Billing" in body
    assert "Travel" in body
    assert "All open cases" in body


def test_queue_view_history_restore_gets_the_full_page(agent_client: Client) -> None:
    response = agent_client.get(
        reverse("web:queue"), **htmx(HTTP_HX_HISTORY_RESTORE_REQUEST="true")
    )
    assert "<html" in response.content.decode()
    assert "HX-Request" in response["Vary"]


def test_unrouted_queue_view_lists_open_cases_without_a_team(
    agent: Any, agent_client: Client, team: Any
) -> None:
    unrouted = CaseFactory(team=None, title="Came in by API")
    routed = CaseFactory(team=team, title="Already routed")
    other_team = CaseFactory(team=TeamFactory(), title="Someone else's")

    response = agent_client.get(reverse("web:unrouted-queue"))

    assert response.status_code == 200
    body = response.content.decode()
    assert unrouted.ref in body
    assert routed.ref not in body
    assert other_team.ref not in body
    assert "<h1>Unrouted cases</h1>" in body


def test_team_queues_view_links_the_unrouted_queue(agent_client: Client) -> None:
    body = agent_client.get(reverse("web:team-queues")).content.decode()
    assert reverse("web:unrouted-queue") in body


def test_unrouted_queue_view_query_count_does_not_grow_with_cases(
    agent: Any, agent_client: Client, django_assert_num_queries: Any
) -> None:
    expected = QUEUE_QUERIES + queries_of_other_apps(agent)
    CaseFactory.create_batch(2, team=None)
    with django_assert_num_queries(expected):
        agent_client.get(reverse("web:unrouted-queue"))
    CaseFactory.create_batch(10, team=None)
    with django_assert_num_queries(expected):
        response = agent_client.get(reverse("web:unrouted-queue"))
    assert len(response.context["page"].items) == 12


def test_unrouted_queue_case_taken_by_an_agent_joins_their_team(
    agent: Any, agent_client: Client, team: Any
) -> None:
    case = CaseFactory(team=None)

    response = agent_client.post(
        reverse("web:case-assign", args=[case.ref]), {"version": case.version, "assignee": "me"}
    )

    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.assignee, case.team) == (agent, team)
    assert case.ref not in agent_client.get(reverse("web:unrouted-queue")).content.decode()

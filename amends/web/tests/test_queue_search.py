from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from amends.accounts.choices import Role
from amends.accounts.tests.factories import TeamFactory, UserFactory
from amends.cases.tests.factories import CaseFactory
from amends.customers.tests.factories import CustomerFactory
from amends.web.tests.conftest import htmx, queries_of_other_apps
from amends.web.tests.test_queues import QUEUE_QUERIES

pytestmark = pytest.mark.django_db

# A search reads the index twice more than a plain queue: the matched ids (for the page and its
# total), and the ranking of those ids on reference, title and customer.
SEARCH_QUERIES = 2


def test_queue_view_search_box_finds_a_customer_by_part_of_their_name(
    agent: Any, agent_client: Client, team: Any
) -> None:
    walsh = CaseFactory(
        team=team, assignee=agent, customer=CustomerFactory(name="Poppy Walsh"), title="No tone"
    )
    CaseFactory(team=team, assignee=agent, customer=CustomerFactory(name="Ada Lee"))
    response = agent_client.get(reverse("web:queue"), {"q": "walsh"})
    assert [c.pk for c in response.context["page"].items] == [walsh.pk]
    body = response.content.decode()
    assert 'value="walsh"' in body
    assert "1 case matches, best match first" in body


def test_team_queue_search_is_limited_to_what_the_user_may_see(
    agent: Any, agent_client: Client, team: Any
) -> None:
    other = TeamFactory(name="Network")
    seen = CaseFactory(team=team, title="Outage Leeds")
    CaseFactory(team=other, title="Outage York")
    response = agent_client.get(reverse("web:team-queue", args=[team.pk]), {"q": "outage"})
    assert [c.pk for c in response.context["page"].items] == [seen.pk]
    assert agent_client.get(reverse("web:team-queue", args=[other.pk])).status_code == 404
    manager = UserFactory(role=Role.MANAGER)
    client = Client()
    client.force_login(manager)
    response = client.get(reverse("web:all-queue"), {"q": "outage"})
    assert len(response.context["page"].items) == 2


def test_queue_view_sorts_by_a_column_and_shows_the_total(
    agent: Any, agent_client: Client, team: Any
) -> None:
    low = CaseFactory(team=team, assignee=agent, severity=4)
    critical = CaseFactory(team=team, assignee=agent, severity=1)
    response = agent_client.get(reverse("web:queue"), {"sort": "-severity"})
    assert [c.pk for c in response.context["page"].items] == [low.pk, critical.pk]
    body = response.content.decode()
    assert 'aria-sort="descending"' in body
    assert "2 cases" in body
    # The header link toggles to the other direction and keeps the other filters.
    response = agent_client.get(reverse("web:queue"), {"sort": "severity", "severity": ""})
    assert [c.pk for c in response.context["page"].items] == [critical.pk, low.pk]
    assert "sort=-severity" in response.content.decode()


def test_queue_view_htmx_search_returns_the_results_partial(
    agent: Any, agent_client: Client, team: Any
) -> None:
    CaseFactory(team=team, assignee=agent, title="Parcel lost")
    response = agent_client.get(reverse("web:queue"), {"q": "parcel"}, **htmx())
    body = response.content.decode()
    assert body.startswith('<section id="queue-results"')
    assert "Parcel lost" in body


@pytest.mark.parametrize(
    "params",
    [{"q": "x" * 201}, {"sort": "title"}, {"q": "\x00"}, {"q": '"*()-'}, {"page": "0"}],
)
def test_queue_view_bad_search_input_is_a_clear_answer_not_an_error(
    agent_client: Client, params: dict[str, str]
) -> None:
    # Invalid filters send the user back to the plain queue with a message; others just match
    # nothing.
    # (NUL characters may be refused before the view, with a 4xx.)
    response = agent_client.get(reverse("web:queue"), params, follow=True)
    if response.status_code == 200:
        assert response.context["page"].items == []
    else:
        assert 400 <= response.status_code < 500


def test_queue_view_search_query_count_does_not_grow_with_matches(
    agent: Any, agent_client: Client, team: Any, django_assert_num_queries: Any
) -> None:
    expected = QUEUE_QUERIES + SEARCH_QUERIES + queries_of_other_apps(agent)
    CaseFactory.create_batch(2, team=team, assignee=agent, title="Router broken")
    with django_assert_num_queries(expected):
        agent_client.get(reverse("web:queue"), {"q": "router"})
    CaseFactory.create_batch(20, team=team, assignee=agent, title="Router broken")
    with django_assert_num_queries(expected):
        response = agent_client.get(reverse("web:queue"), {"q": "router"})
    assert len(response.context["page"].items) == 22

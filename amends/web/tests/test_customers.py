from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from amends.accounts.tests.factories import TeamFactory
from amends.cases.tests.factories import CaseFactory
from amends.customers.choices import CustomerTier
from amends.customers.tests.factories import CustomerFactory
from amends.web.tests.conftest import htmx, queries_of_other_apps

pytestmark = pytest.mark.django_db

# session, user, staff profile, its team, one page of customers (+ other apps' nav links)
CUSTOMER_LIST_QUERIES = 5


def test_customer_list_view_searches_and_paginates(
    agent: Any, agent_client: Client, django_assert_num_queries: Any
) -> None:
    expected = CUSTOMER_LIST_QUERIES + queries_of_other_apps(agent)
    for n in range(27):
        CustomerFactory(name=f"Patel {n:02d}")
    CustomerFactory(name="Okafor")
    with django_assert_num_queries(expected):
        response = agent_client.get(reverse("web:customer-list"), {"q": "pat"})
    assert response.status_code == 200
    assert len(response.context["page"].items) == 25
    assert "Okafor" not in response.content.decode()
    assert 'rel="next"' in response.content.decode()
    second = agent_client.get(reverse("web:customer-list"), {"q": "pat", "page": 2})
    assert len(second.context["page"].items) == 2


def test_customer_list_view_htmx_gets_the_results_partial(agent_client: Client) -> None:
    CustomerFactory(name="Okafor")
    response = agent_client.get(reverse("web:customer-list"), {"q": "oka"}, **htmx())
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="customer-list"')
    assert "Okafor" in body


def test_customer_detail_view_shows_details_and_history_newest_first(
    agent_client: Client, team: Any
) -> None:
    customer = CustomerFactory(
        name="Grace <b>Hopper</b>",
        tier=CustomerTier.VIP,
        special_handling=True,
        special_handling_reason="Prefers phone calls",
    )
    older = CaseFactory(customer=customer, team=team, title="First")
    newer = CaseFactory(customer=customer, team=team, title="Second")
    hidden = CaseFactory(customer=customer, team=TeamFactory(name="Travel"), title="Elsewhere")
    response = agent_client.get(reverse("web:customer-detail", args=[customer.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Grace &lt;b&gt;Hopper&lt;/b&gt;" in body
    assert "Prefers phone calls" in body
    assert "badge-vip" in body
    assert [c.pk for c in response.context["page"].items] == [newer.pk, older.pk]
    assert hidden.ref not in body


def test_customer_detail_view_is_404_for_a_missing_customer(agent_client: Client) -> None:
    assert agent_client.get(reverse("web:customer-detail", args=[999999])).status_code == 404

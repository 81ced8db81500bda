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
    second = agent_client.get(reverse("web:customer-list"), {"q": "pat", "page": "2"})
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


# session, user, staff profile, its team (header), the customer, one page of their cases,
# the customer's loyalty risk score, their repeat failures, their handling's change history
CUSTOMER_PAGE_QUERIES = 9


def test_customer_detail_view_query_count_does_not_grow_with_history(
    agent: Any, agent_client: Client, team: Any, django_assert_num_queries: Any
) -> None:
    customer = CustomerFactory()
    expected = CUSTOMER_PAGE_QUERIES + queries_of_other_apps(agent)
    CaseFactory(customer=customer, team=team, assignee=agent)
    with django_assert_num_queries(expected):
        agent_client.get(reverse("web:customer-detail", args=[customer.pk]))
    CaseFactory.create_batch(30, customer=customer, team=team)
    with django_assert_num_queries(expected):
        response = agent_client.get(reverse("web:customer-detail", args=[customer.pk]))
    assert len(response.context["page"].items) == 25
    assert response.context["page"].has_next


def test_customer_detail_view_links_a_new_case_with_the_customer_picked(
    agent_client: Client,
) -> None:
    customer = CustomerFactory(name="Ada Lee")
    body = agent_client.get(reverse("web:customer-detail", args=[customer.pk])).content.decode()
    link = f"{reverse('web:case-new')}?customer={customer.pk}"
    assert link in body

    form_page = agent_client.get(link)

    assert form_page.status_code == 200
    html = form_page.content.decode()
    assert f'name="customer" value="{customer.pk}" checked' in html
    assert "Ada Lee" in html


@pytest.mark.parametrize("value", ["99999999999999999999", "abc", "0", "123456"])
def test_case_new_view_ignores_a_bad_customer_parameter(agent_client: Client, value: str) -> None:
    response = agent_client.get(reverse("web:case-new"), {"customer": value})
    assert response.status_code == 200
    assert "checked" not in response.content.decode().split('id="customer-results"')[1][:200]

"""The main queues and the cases API filter and sort on how the customer feels: the reading
insight keeps on the case (upset, churn intent, repeat failure, attention)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from amends.cases.models import Case
from amends.cases.tests.factories import CaseFactory
from amends.customers.tests.factories import CustomerFactory
from amends.insight.tests.factories import CALM_TEXT, UPSET_TEXT
from amends.taxonomy.tests.factories import CategoryFactory

pytestmark = pytest.mark.django_db

FURIOUS = "This is outrageous!!! Nobody fixed my broadband and I am furious about it."


@pytest.fixture
def cases(org):
    calm = CaseFactory(team=org.team, description=CALM_TEXT, title="Calm one")
    furious = CaseFactory(team=org.team, description=FURIOUS, title="Furious one")
    leaving = CaseFactory(team=org.team, description=UPSET_TEXT, title="Leaving one")
    customer = CustomerFactory()
    billing = CategoryFactory(name="Billing")
    t0 = datetime.now(UTC) - timedelta(days=2)
    with time_machine.travel(t0, tick=False):
        CaseFactory(
            team=org.team,
            customer=customer,
            category=billing,
            description="Please change the address on my account.",
        )
    repeat = CaseFactory(
        team=org.team,
        customer=customer,
        category=billing,
        description="A question about my bill this month, please.",
        title="Again",
    )
    return {"calm": calm, "furious": furious, "leaving": leaving, "repeat": repeat}


def refs(response) -> set[str]:
    return {item["ref"] for item in response.json()["items"]}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("upset=1", {"furious", "leaving"}),
        ("churn=1", {"leaving"}),
        ("repeat=1", {"repeat"}),
        ("upset=1&churn=1", {"leaving"}),
    ],
)
def test_api_list_filters_on_the_customers_feelings(org, api_client_for, cases, query, expected):
    r = api_client_for(org.agent).get(f"/api/v1/cases?open=1&{query}")
    assert r.status_code == 200, r.json()
    assert refs(r) == {cases[name].ref for name in expected}


def test_api_list_sorts_most_upset_first_and_shows_the_flags(org, api_client_for, cases):
    r = api_client_for(org.agent).get("/api/v1/cases?open=1&sort=attention")
    assert r.status_code == 200, r.json()
    items = r.json()["items"]
    attention = [item["attention"] for item in items]
    assert attention == sorted(attention, reverse=True)
    assert items[0]["ref"] == cases["leaving"].ref  # upset, churn intent and a threat
    leaving = items[0]
    assert (leaving["upset"], leaving["churn_intent"], leaving["repeat_failure"]) == (
        True,
        True,
        False,
    )
    assert items[-1]["ref"] in {cases["calm"].ref}


def test_api_list_refuses_an_unknown_sort(org, api_client_for, cases):
    r = api_client_for(org.agent).get("/api/v1/cases?sort=angriest")
    assert r.status_code == 422


def test_web_queue_filters_and_shows_badges(org, cases, django_assert_max_num_queries):
    client = Client()
    client.force_login(org.agent)
    url = reverse("web:team-queue", args=[org.team.pk])
    with django_assert_max_num_queries(20):
        body = client.get(url, {"upset": "on"}).content.decode()
    assert cases["furious"].ref in body
    assert cases["leaving"].ref in body
    assert cases["calm"].ref not in body
    assert "Churn intent" in body
    body = client.get(url, {"repeat": "on"}).content.decode()
    assert cases["repeat"].ref in body
    assert cases["furious"].ref not in body


def test_web_queue_default_sort_raises_upset_cases_when_configured(org, cases, amends_overrides):
    client = Client()
    client.force_login(org.agent)
    url = reverse("web:team-queue", args=[org.team.pk])
    default = client.get(url).content.decode()
    # Nearest due first by default: the calm case (opened first) comes before the others.
    assert default.index(cases["calm"].ref) < default.index(cases["leaving"].ref)
    amends_overrides(QUEUE_DEFAULT_SORT="attention")
    raised = client.get(url).content.decode()
    assert raised.index(cases["leaving"].ref) < raised.index(cases["calm"].ref)
    assert "most upset first" in raised


def test_queue_page_of_many_flagged_cases_has_a_fixed_query_count(
    org, django_assert_max_num_queries
):
    for _ in range(12):
        CaseFactory(team=org.team, description=UPSET_TEXT)
    assert Case.objects.filter(upset=True).count() == 12
    client = Client()
    client.force_login(org.agent)
    with django_assert_max_num_queries(20):
        r = client.get(reverse("web:team-queue", args=[org.team.pk]), {"upset": "on"})
    assert r.status_code == 200

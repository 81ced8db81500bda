from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from amends.accounts.tests.factories import TeamFactory
from amends.cases.choices import CaseStatus
from amends.cases.models import Case, RoutingRule
from amends.customers.models import Customer
from amends.customers.tests.factories import CustomerFactory
from amends.taxonomy.tests.factories import CategoryFactory, ServiceFactory
from amends.web.tests.conftest import htmx

pytestmark = pytest.mark.django_db

COMPLAINT = {
    "title": "Engineer never came",
    "description": "I took a day off work and nobody came.",
    "expected": "An engineer between 8 and 12",
    "delivered": "Nobody, no call",
    "channel": "phone",
    "severity": "2",
}


def test_case_new_view_renders_the_form(agent_client: Client) -> None:
    response = agent_client.get(reverse("web:case-new"))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="case-new-form"' in body
    assert 'hx-get="/customers/search/"' in body
    for channel in ("phone", "in_person", "email", "web", "social"):
        assert f'value="{channel}"' in body


def test_case_new_view_opens_a_case_for_an_existing_customer(
    agent: Any, agent_client: Client, team: Any
) -> None:
    customer = CustomerFactory()
    category = CategoryFactory()
    service = ServiceFactory()
    data = {
        **COMPLAINT,
        "customer": customer.pk,
        "category": category.pk,
        "service": service.pk,
        "team": team.pk,
    }
    response = agent_client.post(reverse("web:case-new"), data)
    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("web:case-detail", args=[case.ref])
    assert case.customer == customer
    assert case.status == CaseStatus.NEW
    assert case.severity == 2
    assert case.category == category
    assert case.service == service
    assert case.team == team
    assert case.created_by == agent
    assert case.expected == "An engineer between 8 and 12"
    assert case.steps.exists()


def test_case_new_view_creates_a_new_customer(agent_client: Client) -> None:
    data = {
        **COMPLAINT,
        "channel": "in_person",
        "customer_name": "Ada Lee",
        "customer_email": "ada@example.com",
        "customer_ref": "C-77",
    }
    response = agent_client.post(reverse("web:case-new"), data, **htmx())
    case = Case.objects.get()
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("web:case-detail", args=[case.ref])
    assert case.customer.name == "Ada Lee"
    assert case.customer.external_ref == "C-77"
    assert case.channel == "in_person"


def test_case_new_view_needs_a_customer(agent_client: Client) -> None:
    response = agent_client.post(reverse("web:case-new"), COMPLAINT, **htmx())
    assert response.status_code == 422
    body = response.content.decode()
    assert body.lstrip().startswith('<form id="case-new-form"')
    assert "Pick an existing customer or enter the new customer&#x27;s name." in body
    assert not Case.objects.exists()


def test_case_new_view_finds_a_returning_customer_by_reference(agent_client: Client) -> None:
    # Given a customer we already know by their reference in our systems
    known = CustomerFactory(external_ref="C-1")
    # When the form gives that reference again (the same intake as the API)
    data = {**COMPLAINT, "customer_name": "Dup", "customer_ref": "C-1"}
    response = agent_client.post(reverse("web:case-new"), data, **htmx())
    # Then the case is theirs and no second customer appears
    assert response.status_code == 200
    assert Case.objects.get().customer == known
    assert Customer.objects.count() == 1


def test_case_new_view_keeps_no_customer_when_the_case_is_refused(agent_client: Client) -> None:
    # A new customer, but the case is refused (assigned to oneself in a team one is not in)
    other = TeamFactory(name="Elsewhere")
    data = {
        **COMPLAINT,
        "customer_name": "Ada Lee",
        "customer_ref": "C-9",
        "team": other.pk,
        "assign_to_me": "on",
    }
    response = agent_client.post(reverse("web:case-new"), data, **htmx())
    assert response.status_code == 422
    assert 'data-code="invalid_case"' in response.content.decode()
    assert not Customer.objects.exists()
    assert not Case.objects.exists()


def test_case_new_view_escapes_the_title_when_redisplayed(agent_client: Client) -> None:
    data = {**COMPLAINT, "title": "<script>alert(1)</script>"}
    body = agent_client.post(reverse("web:case-new"), data, **htmx()).content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;" in body


def test_customer_search_view_returns_ten_matches_as_choices(agent_client: Client) -> None:
    for n in range(12):
        CustomerFactory(name=f"Smith {n:02d}")
    CustomerFactory(name="Jones")
    response = agent_client.get(reverse("web:customer-search"), {"q": "smi"}, **htmx())
    body = response.content.decode()
    assert response.status_code == 200
    assert body.count('type="radio" name="customer"') == 10
    assert "Jones" not in body
    assert "type more to narrow" in body


def test_customer_search_view_is_empty_without_a_query(agent_client: Client) -> None:
    CustomerFactory()
    response = agent_client.get(reverse("web:customer-search"), {"q": ""}, **htmx())
    assert 'name="customer"' not in response.content.decode()


def test_case_new_view_leaves_the_team_to_the_routing_rules_and_offers_assign_to_me(
    agent_client: Client, team: Any
) -> None:
    form = agent_client.get(reverse("web:case-new")).context["form"]
    assert form["team"].value() is None
    assert form["assign_to_me"].value() is False
    body = agent_client.get(reverse("web:case-new")).content.decode()
    assert 'name="assign_to_me"' in body
    assert 'for="id_assign_to_me"' in body
    assert "By the routing rules" in body


def test_case_new_view_routes_by_what_the_case_is_about_not_who_opens_it(
    agent_client: Client, team: Any
) -> None:
    # A billing agent (the `team` fixture) takes a call about a broadband outage.
    network = TeamFactory(name="Network")
    outage = CategoryFactory(name="Broadband outage", parent=CategoryFactory(name="Network"))
    RoutingRule.objects.create(name="Network", category=outage.parent, team=network)
    data = {
        **COMPLAINT,
        "customer_name": "Ada Lee",
        "category": outage.pk,
        "description": "No broadband since Monday.",
    }
    agent_client.post(reverse("web:case-new"), data)
    case = Case.objects.get()
    assert (case.team, case.assignee) == (network, None)
    # What the customer said is the first message of the conversation.
    first = case.messages.get()
    assert (first.direction, first.body) == ("inbound", "No broadband since Monday.")


def test_case_new_view_assigns_the_case_to_me_when_asked(
    agent: Any, agent_client: Client, team: Any
) -> None:
    data = {**COMPLAINT, "customer_name": "Ada Lee", "team": team.pk, "assign_to_me": "on"}
    response = agent_client.post(reverse("web:case-new"), data)
    case = Case.objects.get()
    assert response["Location"] == reverse("web:case-detail", args=[case.ref])
    assert case.assignee == agent
    assert case.team == team


def test_case_new_view_sends_me_to_my_queue_when_routed_to_a_team_i_cannot_see(
    agent_client: Client,
) -> None:
    from amends.accounts.tests.factories import TeamFactory

    other = TeamFactory(name="Network")
    data = {**COMPLAINT, "customer_name": "Ada Lee", "team": other.pk}

    response = agent_client.post(reverse("web:case-new"), data, follow=True)

    case = Case.objects.get()
    assert case.team == other
    assert response.redirect_chain[-1][0] == reverse("web:queue")
    assert response.status_code == 200
    assert f"{case.ref} opened and sent to the Network team" in response.content.decode()

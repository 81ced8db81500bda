"""Desk work in the web UI: bulk actions with a result per row, tags, merging, canned replies,
who else has a case open, a customer's handling."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from amends.accounts.choices import Role
from amends.accounts.tests.factories import TeamFactory, UserFactory
from amends.cases.choices import CaseEventKind, CaseStatus
from amends.cases.models import CannedReply, Case
from amends.cases.services.tags import case_tags_change
from amends.cases.tests.factories import CaseFactory
from amends.customers.models import CustomerEvent
from amends.customers.tests.factories import CustomerFactory
from amends.web.tests.conftest import htmx

pytestmark = pytest.mark.django_db


@pytest.fixture
def supervisor(team: Any) -> Any:
    return UserFactory(username="sue", role=Role.SUPERVISOR, team=team)


@pytest.fixture
def supervisor_client(supervisor: Any) -> Client:
    client = Client()
    client.force_login(supervisor)
    return client


def test_queue_lists_cases_with_ticks_and_a_bulk_bar(agent_client: Client, case: Case) -> None:
    body = agent_client.get(reverse("web:my-queue")).content.decode()
    assert 'id="queue-bulk"' in body
    assert f'name="refs" value="{case.ref}" form="queue-bulk"' in body


def test_case_bulk_view_assigns_and_answers_a_result_per_row(
    supervisor_client: Client, agent: Any, team: Any
) -> None:
    mine = CaseFactory(team=team)
    hidden = CaseFactory(team=TeamFactory(name="Network"))
    response = supervisor_client.post(
        reverse("web:case-bulk"),
        {"refs": [mine.ref, hidden.ref], "action": "assign", "assignee": agent.username},
        **htmx(),
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "1 done" in body
    assert f'data-ref="{mine.ref}" class="ok"' in body
    assert f'data-ref="{hidden.ref}" class="failed"' in body
    assert response["HX-Trigger"] == "bulkDone"
    mine.refresh_from_db()
    assert mine.assignee == agent


def test_case_bulk_view_without_ticks_is_a_clear_422(agent_client: Client) -> None:
    response = agent_client.post(reverse("web:case-bulk"), {"action": "close"}, **htmx())
    assert response.status_code == 422
    assert "Tick at least one case" in response.content.decode()


def test_case_tags_view_adds_and_removes_tags(agent_client: Client, case: Case) -> None:
    url = reverse("web:case-tags", args=[case.ref])
    response = agent_client.post(url, {"add": "refund pending, Press"}, **htmx())
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-tag="refund-pending"' in body
    assert 'data-tag="press"' in body
    agent_client.post(url, {"remove": "press"}, **htmx())
    assert list(case.tags.values_list("name", flat=True)) == ["refund-pending"]
    assert case.events.filter(kind=CaseEventKind.TAGGED).count() == 2
    other = CaseFactory(team=case.team, assignee=case.assignee, title="Untagged one")
    queue = agent_client.get(reverse("web:my-queue"), {"tag": "refund-pending"}).content.decode()
    assert case.ref in queue
    assert other.ref not in queue


def test_queue_filter_bar_offers_the_tags_in_use_and_keeps_the_chosen_one(
    agent_client: Client, agent: Any, case: Case
) -> None:
    case_tags_change(case=case, actor=agent, add=["refund-pending", "press"])
    body = agent_client.get(reverse("web:my-queue"), {"tag": "press"}).content.decode()
    assert 'list="queue-tags"' in body
    assert '<datalist id="queue-tags"><option value="press"><option value="refund-pending">' in body
    assert 'name="tag" value="press"' in body  # the filter stays in the bookmarked view
    results = agent_client.get(reverse("web:my-queue"), {"tag": "press"}, **htmx()).content
    assert b"queue-tags" not in results  # htmx swaps only the results
    assert case.ref.encode() in results


def test_case_merge_view_closes_the_duplicate_and_goes_to_the_survivor(
    agent_client: Client, case: Case, team: Any, agent: Any
) -> None:
    duplicate = CaseFactory(team=team, assignee=agent, customer=case.customer)
    response = agent_client.post(
        reverse("web:case-merge", args=[duplicate.ref]),
        {"into": case.ref, "version": duplicate.version, "reason": "Same complaint"},
        **htmx(),
    )
    assert response["HX-Redirect"] == reverse("web:case-detail", args=[case.ref])
    duplicate.refresh_from_db()
    assert (duplicate.status, duplicate.merged_into) == (CaseStatus.CLOSED, case)
    page = agent_client.get(reverse("web:case-detail", args=[duplicate.ref])).content.decode()
    assert 'id="case-merged-notice"' in page
    assert 'id="case-merge-form"' not in page


def test_case_canned_fill_view_fills_placeholders_and_warns_of_unknown_ones(
    agent_client: Client, case: Case
) -> None:
    reply = CannedReply.objects.create(
        name="Sorry", body="Dear {customer_name}, re {case_ref}. {signature}"
    )
    page = agent_client.get(reverse("web:case-detail", args=[case.ref])).content.decode()
    assert f'<option value="{reply.pk}">Sorry</option>' in page
    response = agent_client.get(
        reverse("web:case-canned-fill", args=[case.ref]), {"reply": reply.pk}, **htmx()
    )
    body = response.content.decode()
    assert f"Dear {case.customer.name}, re {case.ref}." in body
    assert 'id="canned-unknown"' in body
    assert "{signature}" in body


def test_case_page_says_who_else_has_it_open(
    agent_client: Client, supervisor_client: Client, case: Case, supervisor: Any
) -> None:
    supervisor_client.get(reverse("web:case-detail", args=[case.ref]))
    page = agent_client.get(reverse("web:case-detail", args=[case.ref])).content.decode()
    assert "Also open by" in page
    presence = agent_client.get(reverse("web:case-presence", args=[case.ref]), **htmx())
    assert supervisor.get_full_name() in presence.content.decode()
    alone = supervisor_client.get(reverse("web:case-presence", args=[case.ref]), **htmx())
    assert "Also open by" in alone.content.decode()  # the agent has it open too


def test_customer_handling_view_is_for_supervisors_and_kept_in_the_history(
    agent_client: Client, supervisor_client: Client, supervisor: Any
) -> None:
    customer = CustomerFactory()
    url = reverse("web:customer-handling", args=[customer.pk])
    data = {"tier": "vip", "special_handling": "on", "special_handling_reason": "Bereaved"}
    assert (
        'id="customer-handling-form"'
        not in agent_client.get(reverse("web:customer-detail", args=[customer.pk])).content.decode()
    )
    assert agent_client.post(url, data, **htmx()).status_code == 403
    response = supervisor_client.post(url, data)
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.tier, customer.special_handling) == ("vip", True)
    assert CustomerEvent.objects.get(customer=customer).actor == supervisor
    page = supervisor_client.get(reverse("web:customer-detail", args=[customer.pk])).content
    assert b'id="customer-handling-history"' in page

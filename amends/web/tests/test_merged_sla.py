"""A duplicate merged into another case has no SLA of its own: "not applicable (merged into
AM-…)" on the case page, in lists and the API, and it leaves the KPI figures."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from amends.cases.choices import CaseStatus, SlaState
from amends.cases.models import Case
from amends.cases.services.merge import case_merge
from amends.cases.tests.factories import CaseFactory, case_in_status
from amends.customers.tests.factories import CustomerFactory
from amends.feedback.models import CaseKpi, KpiDay

pytestmark = pytest.mark.django_db


def _merged_after_its_deadline(team: Any, agent: Any) -> tuple[Case, Case]:
    customer = CustomerFactory()
    survivor = CaseFactory(team=team, assignee=agent, customer=customer, title="Double charge")
    duplicate = CaseFactory(team=team, assignee=agent, customer=customer, title="Charged twice")
    assert duplicate.resolve_due_at is not None
    with time_machine.travel(duplicate.resolve_due_at + timedelta(days=2), tick=False):
        case_merge(duplicate=duplicate, survivor=survivor, actor=agent, reason="Same charge")
    duplicate.refresh_from_db()
    return duplicate, survivor


def test_merged_duplicate_reads_not_applicable_not_missed(team: Any, agent: Any) -> None:
    duplicate, survivor = _merged_after_its_deadline(team, agent)
    assert duplicate.status == CaseStatus.CLOSED
    assert duplicate.sla_state == SlaState.NOT_APPLICABLE
    assert duplicate.merged_into_ref == survivor.ref
    # A plain case closed late still reads missed.
    late = CaseFactory(team=team, assignee=agent)
    Case.objects.filter(pk=late.pk).update(
        status=CaseStatus.CLOSED, closed_at=timezone.now(), sla_due_at=None
    )
    late.refresh_from_db()
    with time_machine.travel(late.resolve_due_at + timedelta(days=1), tick=False):
        assert late.sla_state == SlaState.MISSED


def test_case_page_says_merged_into_the_survivor(
    team: Any, agent: Any, agent_client: Client
) -> None:
    duplicate, survivor = _merged_after_its_deadline(team, agent)
    body = agent_client.get(f"/cases/{duplicate.ref}/").content.decode()
    assert 'badge-not_applicable">Not applicable</span>' in body
    assert f'merged into <a href="/cases/{survivor.ref}/">{survivor.ref}</a>' in body
    assert 'badge-missed">Missed' not in body


def test_api_gives_the_state_and_the_survivor_and_filters_on_it(
    team: Any, agent: Any, api_client_for: Any
) -> None:
    duplicate, survivor = _merged_after_its_deadline(team, agent)
    api = api_client_for(agent)
    sla = api.get(f"/api/v1/cases/{duplicate.ref}").json()["sla"]
    assert (sla["state"], sla["merged_into"]) == ("not_applicable", survivor.ref)
    assert api.get(f"/api/v1/cases/{survivor.ref}").json()["sla"]["merged_into"] is None
    missed = api.get("/api/v1/cases", status="closed", sla="missed").json()
    assert duplicate.ref not in [c["ref"] for c in missed["items"]]
    merged = api.get("/api/v1/cases", status="closed", sla="not_applicable").json()
    assert [c["ref"] for c in merged["items"]] == [duplicate.ref]
    assert merged["items"][0]["sla"]["state"] == "not_applicable"


def test_a_resolved_duplicate_merged_away_leaves_the_kpis(team: Any, agent: Any) -> None:
    customer = CustomerFactory()
    survivor = CaseFactory(team=team, assignee=agent, customer=customer)
    duplicate = case_in_status(
        CaseStatus.RESOLVED, actor=agent, team=team, assignee=agent, customer=customer
    )
    assert CaseKpi.objects.filter(case=duplicate).exists()
    case_merge(duplicate=duplicate, survivor=survivor, actor=agent)
    assert not CaseKpi.objects.filter(case=duplicate).exists()
    assert sum(KpiDay.objects.values_list("resolved", flat=True)) == 0

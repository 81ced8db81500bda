from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from amends.accounts.choices import Role
from amends.accounts.tests.factories import UserFactory
from amends.cases.choices import CaseStatus
from amends.cases.tests.factories import CaseFactory, case_in_status
from amends.customers.tests.factories import CustomerFactory
from amends.loyalty.models import CaseFact, CustomerRisk, DailyRollup
from amends.loyalty.services.facts import case_fact_refresh
from amends.loyalty.tests.factories import queued_facts_refresh

pytestmark = pytest.mark.django_db
START = datetime(2026, 2, 2, 9, tzinfo=UTC)

FACT_FIELDS = [f.attname for f in CaseFact._meta.fields]


def snapshot() -> tuple[
    list[tuple[object, ...]], list[tuple[object, ...]], list[tuple[object, ...]]
]:
    facts = sorted(CaseFact.objects.values_list(*FACT_FIELDS))
    rollups: list[tuple[object, ...]] = sorted(
        (
            r.day,
            r.team_key,
            r.category_key,
            r.service_key,
            r.root_cause_key,
            r.opened,
            r.resolved,
            r.resolved_sla_met,
            r.promises_kept,
            r.promises_broken,
            r.cost,
            r.csat_sum,
            r.csat_count,
        )
        for r in DailyRollup.objects.all()
        if r.opened or r.resolved or r.csat_count
    )
    risks = sorted(CustomerRisk.objects.values_list("customer_id", "score", "breakdown"))
    return facts, rollups, [(c, s, str(b)) for c, s, b in risks]


def test_backfill_rebuilds_what_the_hooks_built() -> None:
    manager = UserFactory(role=Role.MANAGER)
    customer = CustomerFactory()
    for day in range(4):
        with time_machine.travel(START + timedelta(days=day), tick=False):
            CaseFactory(customer=customer if day % 2 else CustomerFactory())
            case = case_in_status(CaseStatus.RESOLVED, actor=manager, customer=customer)
    case_fact_refresh(case_id=case.pk)
    queued_facts_refresh()
    with time_machine.travel(START + timedelta(days=5), tick=False):
        for risk in CustomerRisk.objects.all():
            from amends.loyalty.services.risk import customer_risk_refresh

            customer_risk_refresh(customer_id=risk.customer_id)
        before = snapshot()
        CaseFact.objects.all().delete()
        DailyRollup.objects.all().delete()
        CustomerRisk.objects.update(score=0, breakdown=[])
        out = StringIO()
        call_command("loyalty_backfill", "--batch", "100", stdout=out)
    after = snapshot()
    assert after == before
    assert "8 facts" in out.getvalue()

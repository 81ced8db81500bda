"""The rollups always equal live aggregates over the case tables, whatever happens to cases."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from amends.accounts.choices import Role
from amends.accounts.tests.factories import TeamFactory, UserFactory
from amends.cases.choices import DONE_STATUSES, CaseStatus, Outcome
from amends.cases.models import Case
from amends.cases.services.workflow import (
    case_acknowledge,
    case_close,
    case_reopen,
    case_resolve,
    case_resume,
    case_update,
)
from amends.cases.tests.factories import CaseFactory, steps_complete
from amends.customers.tests.factories import CustomerFactory
from amends.loyalty.models import CaseFact, DailyRollup
from amends.loyalty.selectors import analytics_filters_clean, operations_report
from amends.loyalty.services.facts import case_fact_refresh
from amends.loyalty.tests.factories import queued_facts_refresh
from amends.taxonomy.models import RootCause
from amends.taxonomy.tests.factories import CategoryFactory

pytestmark = pytest.mark.django_db
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def live_rollup() -> dict[tuple[Any, ...], dict[str, Any]]:
    """The rollup computed from scratch from the case tables."""
    out: dict[tuple[Any, ...], dict[str, Any]] = defaultdict(lambda: defaultdict(int))
    seen: set[int] = set()
    for case in Case.objects.order_by("created_at", "pk"):
        dims = (case.team_id or 0, case.category_id or 0, case.service_id or 0)
        dims = (*dims, case.root_cause_id or 0)
        opened = out[(case.created_at.date(), *dims)]
        opened["opened"] += 1
        opened["severity_points"] += {1: 4, 2: 3, 3: 2}.get(case.severity, 1)
        opened["repeats"] += int(case.customer_id in seen)
        seen.add(case.customer_id)
        if case.status in DONE_STATUSES and case.resolved_at is not None:
            slot = out[(case.resolved_at.date(), *dims)]
            slot["resolved"] += 1
            slot["resolved_sla_met"] += int(case.resolved_at <= case.resolve_due_at)
    return {k: {m: v for m, v in d.items() if v} for k, d in out.items()}


LIVE_MEASURES = ("opened", "resolved", "resolved_sla_met", "severity_points", "repeats")


def live_operations(since: datetime, until: datetime, team_id: int | None) -> dict[Any, Any]:
    """Failures and distinct customers hurt per root cause × service × category, counted
    from the cases opened in [since, until) (of one team if given)."""
    out: dict[Any, Any] = defaultdict(lambda: [0, set()])
    cases = Case.objects.filter(created_at__gte=since, created_at__lt=until)
    if team_id is not None:
        cases = cases.filter(team_id=team_id)
    for case in cases:
        slot = out[(case.root_cause_id, case.service_id, case.category_id)]
        slot[0] += 1
        slot[1].add(case.customer_id)
    return {key: (n, len(customers)) for key, (n, customers) in out.items()}


def stored_operations(since: datetime, until: datetime, team_id: int | None) -> dict[Any, Any]:
    filters = analytics_filters_clean(
        since=since.date(), until=(until - timedelta(days=1)).date(), team_id=team_id
    )
    return {
        (r["root_cause_id"], r["service_id"], r["category_id"]): (
            r["failures"],
            r["customers_hurt"],
        )
        for r in operations_report(filters=filters)
    }


def stored_rollup() -> dict[tuple[Any, ...], dict[str, Any]]:
    out = {}
    for r in DailyRollup.objects.all():
        measures = {m: getattr(r, m) for m in LIVE_MEASURES if getattr(r, m)}
        assert r.cost == Decimal("0.00")
        if measures:
            out[(r.day, r.team_key, r.category_key, r.service_key, r.root_cause_key)] = measures
    return out


ACTIONS = st.lists(
    st.tuples(
        st.sampled_from(["open", "progress", "resolve", "reopen", "recategorise", "root_cause"]),
        st.integers(min_value=0, max_value=5),
        st.integers(min_value=0, max_value=60 * 60 * 40),
    ),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(actions=ACTIONS)
def test_rollups_equal_live_aggregates_after_random_events(actions: list[Any]) -> None:
    with transaction.atomic():
        teams = [TeamFactory(name="Rollup team"), TeamFactory(name="Other team")]
        manager = UserFactory(role=Role.MANAGER, team=teams[0])
        customers = [CustomerFactory() for _ in range(2)]
        categories = [CategoryFactory(), CategoryFactory()]
        cause, _ = RootCause.objects.get_or_create(name="Supplier")
        now = START
        cases: list[Case] = []
        for action, pick, seconds in actions:
            now += timedelta(seconds=seconds)
            with time_machine.travel(now, tick=False):
                case = Case.objects.get(pk=cases[pick % len(cases)].pk) if cases else None
                if action == "open" or case is None:
                    cases.append(
                        CaseFactory(
                            customer=customers[pick % 2],
                            category=categories[pick % 2],
                            team=teams[pick % 2],
                            severity=1 + pick % 4,
                        )
                    )
                elif action == "progress" and case.status == CaseStatus.NEW:
                    case_acknowledge(case=case, version=None, actor=manager)
                elif action == "progress" and case.status == CaseStatus.ACKNOWLEDGED:
                    case_resume(case=case, version=None, actor=manager)
                elif action == "resolve" and case.status in (
                    CaseStatus.ACKNOWLEDGED,
                    CaseStatus.IN_RECOVERY,
                ):
                    steps_complete(case)
                    case_resolve(
                        case=case,
                        outcome=Outcome.UPHELD,
                        version=None,
                        actor=manager,
                        confirm_undetermined=True,
                    )
                elif action == "resolve" and case.status == CaseStatus.RESOLVED:
                    case_close(case=case, version=None, actor=manager)
                elif action == "reopen" and case.status in DONE_STATUSES:
                    case_reopen(case=case, version=None, actor=manager, reason="Not fixed")
                elif action == "recategorise":
                    case_update(
                        case=case, version=None, actor=manager, category=categories[pick % 2]
                    )
                elif action == "root_cause":
                    case_update(case=case, version=None, actor=manager, root_cause=cause)
        queued_facts_refresh()  # what the worker does for newly opened cases
        assert stored_rollup() == live_rollup()
        assert CaseFact.objects.count() == len(cases)
        # The operations report, from the rollups and the facts' history, over whole days
        # from the first to any later one, with and without the team filter
        # (read long after the period, and on its last day: the report reads the repeats
        # differently then)
        first = START.replace(hour=0)
        for days in (1, 2, 3):
            for since in (first, first + timedelta(days=1)):
                until = since + timedelta(days=days)
                for team_id in (None, teams[0].pk):
                    live = live_operations(since, until, team_id)
                    assert stored_operations(since, until, team_id) == live
                    with time_machine.travel(until - timedelta(hours=1), tick=False):
                        assert stored_operations(since, until, team_id) == live
        transaction.set_rollback(True)


def test_case_fact_refresh_records_dimensions_and_first_or_repeat() -> None:
    customer = CustomerFactory()
    with time_machine.travel(START, tick=False):
        first = CaseFactory(customer=customer, severity=2)
    with time_machine.travel(START + timedelta(days=1), tick=False):
        second = CaseFactory(customer=customer)
    assert not CaseFact.objects.exists()  # queued at intake, for the worker
    queued_facts_refresh()
    a = CaseFact.objects.get(case=first)
    b = CaseFact.objects.get(case=second)
    assert (a.repeat, b.repeat) == (False, True)
    assert a.severity == 2
    assert a.is_open
    assert a.customer_id == customer.pk


def test_case_fact_refresh_keeps_survey_answers_and_rolls_up_csat() -> None:
    case = CaseFactory()
    case_fact_refresh(case_id=case.pk, csat=4, nps=9, would_use_again=5)
    case_fact_refresh(case_id=case.pk)  # a later case event keeps the survey answer
    fact = CaseFact.objects.get(case=case)
    assert (fact.csat, fact.nps, fact.would_use_again) == (4, 9, 5)
    row = DailyRollup.objects.get()
    assert (row.csat_sum, row.csat_count, row.opened) == (4, 1, 1)


def test_case_fact_refresh_returns_none_for_unknown_case() -> None:
    assert case_fact_refresh(case_id=10**12) is None

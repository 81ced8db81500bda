"""The rollups always equal live aggregates over the case tables, whatever happens to cases."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

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
from amends.core.organisation import organisation_save
from amends.customers.tests.factories import CustomerFactory
from amends.loyalty.models import CaseFact, DailyRollup, WeeklyRollup
from amends.loyalty.selectors import (
    analytics_filters_clean,
    analytics_overview,
    day_start,
    operations_report,
)
from amends.loyalty.services.facts import case_fact_refresh
from amends.loyalty.tests.factories import queued_facts_refresh
from amends.taxonomy.models import RootCause
from amends.taxonomy.tests.factories import CategoryFactory

pytestmark = pytest.mark.django_db
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
# A Monday, 22:00 in Auckland (UTC+13), six days before its clocks go back (5 April 2026): the
# events of an example cross organisation days that are not UTC days, and a 25-hour day.
START_NZ = datetime(2026, 3, 30, 9, 0, tzinfo=UTC)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def live_rollup(zone: ZoneInfo) -> dict[tuple[Any, ...], dict[str, Any]]:
    """The rollup computed from scratch from the case tables, by the zone's calendar days."""
    out: dict[tuple[Any, ...], dict[str, Any]] = defaultdict(lambda: defaultdict(int))
    seen: set[int] = set()
    for case in Case.objects.order_by("created_at", "pk"):
        dims = (
            case.team_id or 0,
            case.category_id or 0,
            case.service_id or 0,
            case.root_cause_id or 0,
        )
        opened = out[(case.created_at.astimezone(zone).date(), *dims)]
        opened["opened"] += 1
        opened["severity_points"] += {1: 4, 2: 3, 3: 2}.get(case.severity, 1)
        opened["repeats"] += int(case.customer_id in seen)
        seen.add(case.customer_id)
        if case.status in DONE_STATUSES and case.resolved_at is not None:
            slot = out[(case.resolved_at.astimezone(zone).date(), *dims)]
            slot["resolved"] += 1
            slot["resolved_sla_met"] += int(case.resolved_at <= case.resolve_due_at)
    return {k: {m: v for m, v in d.items() if v} for k, d in out.items()}


def live_weekly(daily: dict[tuple[Any, ...], dict[str, Any]]) -> dict[tuple[Any, ...], Any]:
    """Live daily figures summed per week, Monday to Sunday."""
    out: dict[tuple[Any, ...], dict[str, Any]] = defaultdict(lambda: defaultdict(int))
    for (day, *dims), measures in daily.items():
        for name, value in measures.items():
            out[(_monday(day), *dims)][name] += value
    return {k: dict(v) for k, v in out.items()}


def live_weeks(
    daily: dict[tuple[Any, ...], dict[str, Any]], since: date, until: date
) -> dict[date, tuple[int, int, int]]:
    """What the dashboard's weeks must show for [since, until]: only the period's days."""
    out: dict[date, list[int]] = defaultdict(lambda: [0, 0, 0])
    for (day, *_), measures in daily.items():
        if since <= day <= until:
            slot = out[_monday(day)]
            slot[0] += measures.get("opened", 0)
            slot[1] += measures.get("resolved", 0)
            slot[2] += measures.get("resolved_sla_met", 0)
    return {week: (a, b, c) for week, (a, b, c) in out.items() if a or b or c}


def stored_weeks(since: date, until: date, team_id: int | None) -> dict[date, Any]:
    overview = analytics_overview(
        filters=analytics_filters_clean(since=since, until=until, team_id=team_id)
    )
    weeks = {
        w.week: (w.opened, w.resolved, w.resolved_sla_met)
        for w in overview.weeks
        if w.opened or w.resolved or w.resolved_sla_met
    }
    total = overview.totals
    assert (total.opened, total.resolved, total.resolved_sla_met) == tuple(
        sum(w[i] for w in weeks.values()) for i in range(3)
    )
    return weeks


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


def stored_operations(since: date, until: date, team_id: int | None) -> dict[Any, Any]:
    """The operations report for the organisation days [since, until)."""
    filters = analytics_filters_clean(since=since, until=until - timedelta(days=1), team_id=team_id)
    return {
        (r["root_cause_id"], r["service_id"], r["category_id"]): (
            r["failures"],
            r["customers_hurt"],
        )
        for r in operations_report(filters=filters)
    }


def stored_rollup(weekly: bool = False) -> dict[tuple[Any, ...], dict[str, Any]]:
    out = {}
    rows: Any = WeeklyRollup.objects.all() if weekly else DailyRollup.objects.all()
    for r in rows:
        measures = {m: getattr(r, m) for m in LIVE_MEASURES if getattr(r, m)}
        assert r.cost == Decimal("0.00")
        if measures:
            period = r.week if weekly else r.day
            out[(period, r.team_key, r.category_key, r.service_key, r.root_cause_key)] = measures
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


@pytest.mark.parametrize(("zone_name", "start"), [("UTC", START), ("Pacific/Auckland", START_NZ)])
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(actions=ACTIONS)
def test_rollups_equal_live_aggregates_after_random_events(
    zone_name: str, start: datetime, actions: list[Any]
) -> None:
    zone = ZoneInfo(zone_name)
    with transaction.atomic():
        organisation_save(time_zone=zone_name, currency="GBP")
        teams = [TeamFactory(name="Rollup team"), TeamFactory(name="Other team")]
        manager = UserFactory(role=Role.MANAGER, team=teams[0])
        customers = [CustomerFactory() for _ in range(2)]
        categories = [CategoryFactory(), CategoryFactory()]
        cause, _ = RootCause.objects.get_or_create(name="Supplier")
        now = start
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
        live = live_rollup(zone)
        assert stored_rollup() == live
        assert stored_rollup(weekly=True) == live_weekly(live)
        assert CaseFact.objects.count() == len(cases)
        # The operations report and the dashboard's weeks, from the weekly rollups (whole
        # weeks) and the daily ones (partial weeks at the edges) and the facts' history, over
        # organisation days from the first to any later one: single days, periods inside a
        # week, and periods with whole weeks and partial ones at either end, with and without
        # the team filter (read long after the period, and on its last day: the report reads
        # the repeats differently then)
        first = start.astimezone(zone).date()
        for days in (1, 3, 8, 16):
            for since in (first, first + timedelta(days=1), first + timedelta(days=6)):
                until = since + timedelta(days=days)
                for team_id in (None, teams[0].pk):
                    expected = live_operations(day_start(since), day_start(until), team_id)
                    assert stored_operations(since, until, team_id) == expected
                    with time_machine.travel(day_start(until) - timedelta(hours=1), tick=False):
                        assert stored_operations(since, until, team_id) == expected
                        on_team = (
                            live
                            if team_id is None
                            else {k: v for k, v in live.items() if k[1] == team_id}
                        )
                        last = until - timedelta(days=1)
                        assert stored_weeks(since, last, team_id) == live_weeks(
                            on_team, since, last
                        )
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


def test_rollups_use_the_organisation_days_and_weeks_not_utc() -> None:
    """23:30 on Sunday and 00:30 on Monday in Auckland are both Sunday in UTC: the rollups put
    them on two days of two weeks, and a period ending on Sunday counts only the first."""
    organisation_save(time_zone="Pacific/Auckland", currency="NZD")
    sunday_late = datetime(2026, 6, 7, 11, 30, tzinfo=UTC)  # 23:30 NZST, Sunday 7 June
    monday_early = datetime(2026, 6, 7, 12, 30, tzinfo=UTC)  # 00:30 NZST, Monday 8 June
    for moment in (sunday_late, monday_early):
        with time_machine.travel(moment, tick=False):
            CaseFactory()
    queued_facts_refresh()
    assert sorted(DailyRollup.objects.values_list("day", "opened")) == [
        (date(2026, 6, 7), 1),
        (date(2026, 6, 8), 1),
    ]
    assert sorted(WeeklyRollup.objects.values_list("week", "opened")) == [
        (date(2026, 6, 1), 1),
        (date(2026, 6, 8), 1),
    ]
    with time_machine.travel(datetime(2026, 6, 20, tzinfo=UTC), tick=False):
        sunday = analytics_filters_clean(since=date(2026, 6, 1), until=date(2026, 6, 7))
        assert sunday.start == datetime(2026, 5, 31, 12, 0, tzinfo=UTC)  # midnight NZST
        assert analytics_overview(filters=sunday).totals.opened == 1
        fortnight = analytics_filters_clean(since=date(2026, 6, 1), until=date(2026, 6, 14))
        weeks = analytics_overview(filters=fortnight).weeks
        assert [(w.week, w.opened) for w in weeks] == [(date(2026, 6, 1), 1), (date(2026, 6, 8), 1)]
        assert [r["failures"] for r in operations_report(filters=sunday)] == [1]


def test_default_period_ends_on_the_organisation_today() -> None:
    organisation_save(time_zone="Pacific/Auckland", currency="NZD")
    # 20:00 UTC on 1 June is 08:00 on 2 June in Auckland
    with time_machine.travel(datetime(2026, 6, 1, 20, 0, tzinfo=UTC), tick=False):
        filters = analytics_filters_clean()
    assert (filters.since, filters.until) == (date(2026, 3, 5), date(2026, 6, 2))

"""Reports against fixtures whose figures are worked out by hand in the comments."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied

from amends.accounts.choices import Role
from amends.accounts.tests.factories import TeamFactory, UserFactory
from amends.cases.choices import CaseStatus
from amends.cases.tests.factories import CaseFactory, case_in_status
from amends.core.exceptions import ApplicationError
from amends.customers.choices import LoyaltyStatus
from amends.customers.tests.factories import CustomerFactory
from amends.loyalty.models import CaseFact
from amends.loyalty.selectors import (
    analytics_filters_clean,
    analytics_overview,
    analytics_scope,
    mtbf_report,
    operations_report,
    recovery_paradox,
)
from amends.loyalty.services.facts import case_fact_refresh
from amends.loyalty.services.risk import customer_risk_refresh
from amends.loyalty.services.status import loyalty_status_change
from amends.loyalty.tests.factories import queued_facts_refresh
from amends.taxonomy.models import RootCause
from amends.taxonomy.tests.factories import CategoryFactory, ServiceFactory

pytestmark = pytest.mark.django_db


def at(day: int, month: int = 1, hour: int = 0) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


# --- MTBF ---------------------------------------------------------------------------------------


def test_mtbf_report_over_a_hand_made_timeline() -> None:
    broadband, mobile = ServiceFactory(name="Broadband"), ServiceFactory(name="Mobile")
    outage = CategoryFactory(name="Outage")
    # Broadband outages on 1, 3 and 7 January; one mobile outage on 5 January; one broadband
    # outage on 15 January, outside the period 1-10 January.
    for when, service in ((at(1), broadband), (at(3), broadband), (at(7), broadband)):
        with time_machine.travel(when, tick=False):
            CaseFactory(service=service, category=outage)
            queued_facts_refresh()
    for when, service in ((at(5), mobile), (at(15), broadband)):
        with time_machine.travel(when, tick=False):
            CaseFactory(service=service, category=outage)
            queued_facts_refresh()
    filters = analytics_filters_clean(since=date(2026, 1, 1), until=date(2026, 1, 10))
    rows = {r["service"]: r for r in mtbf_report(filters=filters)}
    # 10 days = 240 hours. Broadband: 3 failures -> 240 / 3 = 80 h between failures; first to
    # last is 6 days = 144 h over 2 gaps = 72 h. Mobile: one failure -> 240 h, no gap.
    assert rows["Broadband"]["failures"] == 3
    assert rows["Broadband"]["mtbf_hours"] == 80.0
    assert rows["Broadband"]["mean_gap_hours"] == 72.0
    assert rows["Mobile"]["mtbf_hours"] == 240.0
    assert rows["Mobile"]["mean_gap_hours"] is None
    assert [r["service"] for r in mtbf_report(filters=filters)] == ["Broadband", "Mobile"]


# --- operations report --------------------------------------------------------------------------


def test_operations_report_ranks_customers_hurt_times_severity_times_cost() -> None:
    supplier = RootCause.objects.create(name="Supplier")
    training = RootCause.objects.create(name="Training")
    manager = UserFactory(role=Role.MANAGER)
    shared = CustomerFactory()
    with time_machine.travel(at(2), tick=False):
        # Supplier: two customers, severities 1 and 3 (weights 4 and 2, mean 3)
        for customer, severity in ((shared, 1), (CustomerFactory(), 3)):
            case = CaseFactory(customer=customer, severity=severity)
            from amends.cases.services.workflow import case_update

            case_update(case=case, version=None, actor=manager, root_cause=supplier)
        # Training: one customer, two low-severity cases (weight 1)
        for _ in range(2):
            case = CaseFactory(customer=shared, severity=4)
            case_update(case=case, version=None, actor=manager, root_cause=training)
    filters = analytics_filters_clean(since=date(2026, 1, 1), until=date(2026, 1, 31))
    rows = operations_report(filters=filters)
    assert [r["root_cause"] for r in rows] == ["Supplier", "Training"]
    top, second = rows
    # Supplier: 2 customers x 3.0 x (0 + 1) = 6; Training: 1 customer x 1.0 x 1 = 1
    assert (top["failures"], top["customers_hurt"], top["severity_weight"]) == (2, 2, 3.0)
    assert top["priority"] == 6.0
    assert (second["failures"], second["customers_hurt"], second["priority"]) == (2, 1, 1.0)
    assert second["repeat_failures"] == 2  # the shared customer had failed before


# --- recovery paradox ---------------------------------------------------------------------------


def _recovered(customer_days: int, *, severity: int, survey: tuple[int, int, int] | None) -> int:
    manager = UserFactory(role=Role.MANAGER)
    customer = CustomerFactory()
    with time_machine.travel(at(customer_days), tick=False):
        case = case_in_status(
            CaseStatus.RESOLVED, actor=manager, customer=customer, severity=severity
        )
    if survey is not None:
        csat, nps, wua = survey
        case_fact_refresh(case_id=case.pk, csat=csat, nps=nps, would_use_again=wua)
    return customer.pk


@pytest.fixture
def paradox_fixture() -> None:
    """January 2026, looked at on 1 June 2026 with a 90-day retention window.

    Recovered failures (each resolved in January):
      A severity 3, CSAT 5, NPS 10, would-use-again 5, kept
      B severity 3, CSAT 4, NPS 9,  would-use-again 4, lost 30 days after resolution
      C severity 1, CSAT 2, NPS 3,  would-use-again 1, kept
      D severity 3, no survey, kept
    Never failed (customers since December 2025):
      E CSAT 4, NPS 8, would-use-again 5; F CSAT 3; G no survey, lost 15 February
    """
    manager = UserFactory(role=Role.MANAGER)
    with time_machine.travel(datetime(2025, 12, 1, tzinfo=UTC), tick=False):
        e, f, g = CustomerFactory(), CustomerFactory(), CustomerFactory()
    _recovered(5, severity=3, survey=(5, 10, 5))
    b = _recovered(6, severity=3, survey=(4, 9, 4))
    _recovered(7, severity=1, survey=(2, 3, 1))
    _recovered(8, severity=3, survey=None)
    customer_risk_refresh(customer_id=e.pk, last_csat=4, last_nps=8, last_would_use_again=5)
    customer_risk_refresh(customer_id=f.pk, last_csat=3)
    from amends.customers.models import Customer

    loyalty_status_change(
        customer=Customer.objects.get(pk=b),
        status=LoyaltyStatus.LOST,
        reason="Moved to a competitor",
        actor=manager,
        at=at(6) + timedelta(days=30),
    )
    loyalty_status_change(
        customer=g, status=LoyaltyStatus.LOST, reason="Cancelled", actor=manager, at=at(15, 2)
    )


def test_recovery_paradox_matches_hand_computed_figures(paradox_fixture: None) -> None:
    filters = analytics_filters_clean(since=date(2026, 1, 1), until=date(2026, 1, 31))
    with time_machine.travel(datetime(2026, 6, 1, tzinfo=UTC), tick=False):
        report = recovery_paradox(filters=filters, retention_days=90)
    rec = report["recovered"]
    assert rec["count"] == 4
    assert rec["small"] is True  # fewer than 30
    # CSAT 5, 4, 2: mean 11/3; sample variance (45 - 3 * (11/3)^2) / 2 = 7/3;
    # half-width 1.96 * sqrt(7/9) = 1.7285
    assert rec["csat"]["n"] == 3
    assert rec["csat"]["mean"] == pytest.approx(3.6667, abs=1e-4)
    assert rec["csat"]["ci_low"] == pytest.approx(1.9381, abs=1e-3)
    assert rec["csat"]["ci_high"] == pytest.approx(5.3952, abs=1e-3)
    # would use again (4 or 5): 2 of 3; Wilson 95% interval (0.2077, 0.9385)
    assert rec["would_use_again"]["share"] == pytest.approx(2 / 3)
    assert rec["would_use_again"]["ci_low"] == pytest.approx(0.2077, abs=1e-3)
    assert rec["would_use_again"]["ci_high"] == pytest.approx(0.9385, abs=1e-3)
    # NPS: promoters (9-10) 2, detractors (0-6) 1, of 3 -> 33.3
    assert rec["nps"] == {"n": 3, "score": 33.3}
    # retention: all four resolved over 90 days before 1 June; B was lost within 90 days
    assert (rec["retention"]["n"], rec["retention"]["share"]) == (4, 0.75)

    base = report["never_failed"]
    assert base["count"] == 3
    assert (base["csat"]["n"], base["csat"]["mean"]) == (2, 3.5)
    assert (base["would_use_again"]["n"], base["would_use_again"]["share"]) == (1, 1.0)
    # horizon 1 Feb + 90 days = 2 May <= 1 June; G lost on 15 Feb -> 2 of 3 retained
    assert (base["retention"]["n"], base["retention"]["share"]) == (3, pytest.approx(2 / 3))

    splits = {s["split"]: {g["group"]: g for g in s["groups"]} for s in report["splits"]}
    assert splits["severity"]["severe"]["count"] == 1
    assert splits["severity"]["not severe"]["csat"]["mean"] == 4.5
    assert {k: v["count"] for k, v in splits["band"].items()} == {
        "high": 2,
        "low": 1,
        "no survey": 1,
    }
    assert splits["band"]["high"]["retention"]["share"] == 0.5
    assert {k: v["count"] for k, v in splits["repeat"].items()} == {"first": 4}
    assert {k: v["count"] for k, v in splits["steps"].items()} == {"all done": 4}
    assert {k: v["count"] for k, v in splits["promise"].items()} == {"none made": 4}


def test_recovery_paradox_does_not_count_retention_not_yet_observable(
    paradox_fixture: None,
) -> None:
    filters = analytics_filters_clean(since=date(2026, 1, 1), until=date(2026, 1, 31))
    with time_machine.travel(datetime(2026, 3, 1, tzinfo=UTC), tick=False):
        report = recovery_paradox(filters=filters, retention_days=90)
    assert report["recovered"]["retention"] == {
        "n": 0,
        "share": None,
        "ci_low": None,
        "ci_high": None,
    }
    assert report["never_failed"]["retention"]["n"] == 0


def test_recovery_paradox_refuses_absurd_retention_days() -> None:
    filters = analytics_filters_clean()
    with pytest.raises(ApplicationError) as exc:
        recovery_paradox(filters=filters, retention_days=0)
    assert exc.value.code == "invalid_retention_days"


# --- filters, scope, overview -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("since", "until"),
    [
        (date(2026, 2, 1), date(2026, 1, 1)),  # starts after it ends
        (date(1900, 1, 1), date(2026, 1, 1)),  # before 2000
        (date(2026, 1, 1), date(9999, 12, 31)),  # far future
        (date(2001, 1, 1), date(2020, 1, 1)),  # longer than ten years
    ],
)
def test_analytics_filters_clean_refuses_impossible_periods(since: date, until: date) -> None:
    with pytest.raises(ApplicationError) as exc:
        analytics_filters_clean(since=since, until=until)
    assert exc.value.code == "invalid_period"
    assert exc.value.status == 422


def test_analytics_scope_keeps_a_supervisor_to_their_team_and_refuses_agents() -> None:
    team, other = TeamFactory(), TeamFactory()
    supervisor = UserFactory(role=Role.SUPERVISOR, team=team)
    filters = analytics_filters_clean()
    assert analytics_scope(user=supervisor, filters=filters).team_id == team.pk
    with pytest.raises(PermissionDenied):
        analytics_scope(user=supervisor, filters=analytics_filters_clean(team_id=other.pk))
    with pytest.raises(PermissionDenied):
        analytics_scope(user=UserFactory(role=Role.AGENT), filters=filters)
    manager = UserFactory(role=Role.MANAGER)
    assert analytics_scope(user=manager, filters=filters).team_id is None


def test_analytics_overview_sums_weeks_from_the_rollups() -> None:
    manager = UserFactory(role=Role.MANAGER)
    with time_machine.travel(at(5, hour=9), tick=False):  # Monday 5 January
        case_in_status(CaseStatus.RESOLVED, actor=manager)
        CaseFactory()
        queued_facts_refresh()
    with time_machine.travel(at(14, hour=9), tick=False):  # Wednesday of the next week
        CaseFactory()
        queued_facts_refresh()
    filters = analytics_filters_clean(since=date(2026, 1, 5), until=date(2026, 1, 18))
    overview = analytics_overview(filters=filters)
    assert [(w.week, w.opened, w.resolved) for w in overview.weeks] == [
        (date(2026, 1, 5), 2, 1),
        (date(2026, 1, 12), 1, 0),
    ]
    assert overview.totals.opened == 3
    assert overview.weeks[0].sla_pct == 100.0
    assert CaseFact.objects.count() == 3

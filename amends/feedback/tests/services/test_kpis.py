"""KPI arithmetic against figures worked out by hand.

Calendar: weekdays 09:00-17:00 UTC (the default calendar), March 2026 (Monday 2 March).

Case A (alex): opened Mon 09:00, acknowledged Mon 10:30 (1.5 h), resolved Mon 13:00 (4 h);
  every step done; one promise kept on time.
Case B (alex): opened Fri 16:00, acknowledged Mon 10:00 (1 h Fri + 1 h Mon = 2 h), awaiting the
  customer Mon 11:00-14:00 (3 h, not ours), resolved Tue 12:00: Fri 16-17 (1) + Mon 9-17 (8) +
  Tue 9-12 (3) = 12 h, minus 3 h paused = 9 h; one required step skipped; one promise broken.
Case C (casey, same team): opened Mon 09:00, acknowledged 09:30, resolved 11:00.

alex:  acknowledge (1.5 + 2) / 2 = 1.75 h; resolve (4 + 9) / 2 = 6.5 h; steps 1 of 2 = 50 %;
       promises 1 of 2 = 50 %; CSAT answers 5 and 2 -> 3.5, satisfied 1 of 2 = 50 %;
       fair outcome 4 (one answer), fair process 5 and 1 -> 3.0; compliments 1.
team:  acknowledge (1.5 + 2 + 0.5) / 3 = 1.33 h; resolve (4 + 9 + 2) / 3 = 5.0 h; steps 2 of 3.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from amends.cases.choices import Outcome, StepState
from amends.cases.models import Case
from amends.cases.services.workflow import (
    case_acknowledge,
    case_await_customer,
    case_resolve,
    case_resume,
)
from amends.cases.tests.factories import CaseFactory, steps_complete
from amends.commitments.choices import CommitmentStatus
from amends.commitments.models import Commitment
from amends.commitments.services.commitments import commitment_keep
from amends.commitments.tests.factories import CommitmentFactory
from amends.feedback.models import CaseKpi, KpiDay
from amends.feedback.selectors import KpiScope, champions, kpi_cases, kpi_figures
from amends.feedback.services.dispatch import survey_sweep
from amends.feedback.services.kpis import kpi_rebuild
from amends.feedback.services.surveys import survey_answer, survey_token
from amends.feedback.tests.factories import Org
from amends.policies.tests.factories import CalendarFactory

pytestmark = pytest.mark.django_db

FRI = datetime(2026, 2, 27, tzinfo=UTC)
MON = datetime(2026, 3, 2, tzinfo=UTC)
TUE = datetime(2026, 3, 3, tzinfo=UTC)


def at(day: datetime, hour: float) -> datetime:
    return day + timedelta(hours=hour)


def _open(org: Org, when: datetime, assignee: object) -> Case:
    with time_machine.travel(when, tick=False):
        return CaseFactory(team=org.team, assignee=assignee)


def _step(when: datetime, fn: Callable[..., Case], **kwargs: object) -> Case:
    with time_machine.travel(when, tick=False):
        return fn(version=None, **kwargs)


def _resolve(case: Case, when: datetime, actor: object) -> Case:
    return _step(
        when,
        case_resolve,
        case=case,
        outcome=Outcome.UPHELD,
        actor=actor,
        confirm_undetermined=True,
    )


def _answer(case: Case, when: datetime, **answers: object) -> None:
    with time_machine.travel(when, tick=False):
        survey_sweep(now=when)
        survey = case.survey
        survey.refresh_from_db()
        survey_answer(token=survey_token(survey), **answers)  # type: ignore[arg-type]


@pytest.fixture
def fixture_org(org: Org) -> Org:
    CalendarFactory(timezone="UTC", is_default=True)
    # Case A
    a = _open(org, at(MON, 9), org.agent)
    a = _step(at(MON, 10.5), case_acknowledge, case=a, actor=org.agent)
    steps_complete(a)
    with time_machine.travel(at(MON, 10.6), tick=False):
        kept = CommitmentFactory(case=a, owner=org.agent, due_at=at(MON, 12))
    with time_machine.travel(at(MON, 11), tick=False):
        commitment_keep(commitment=kept, actor=org.agent, note="Called back")
    _resolve(a, at(MON, 13), org.agent)
    # Case B
    b = _open(org, at(FRI, 16), org.agent)
    b = _step(at(MON, 10), case_acknowledge, case=b, actor=org.agent)
    b = _step(at(MON, 11), case_await_customer, case=b, actor=org.agent)
    b = _step(at(MON, 14), case_resume, case=b, actor=org.agent)
    steps_complete(b)
    row = b.steps.filter(required=True).first()
    assert row is not None
    b.steps.filter(pk=row.pk).update(state=StepState.SKIPPED, skip_reason="Customer declined")
    with time_machine.travel(at(MON, 14), tick=False):
        broken = CommitmentFactory(case=b, owner=org.agent, due_at=at(MON, 15))
    Commitment.objects.filter(pk=broken.pk).update(
        status=CommitmentStatus.BROKEN, broken_at=at(MON, 15)
    )
    _resolve(b, at(TUE, 12), org.agent)
    # Case C
    c = _open(org, at(MON, 9), org.colleague)
    c = _step(at(MON, 9.5), case_acknowledge, case=c, actor=org.colleague)
    steps_complete(c)
    _resolve(c, at(MON, 11), org.colleague)
    # Answers (surveys go out a day after the resolve by default)
    _answer(a, at(TUE, 15), csat=5, nps=9, fair_outcome=4, fair_process=5, compliment="Thanks!")
    _answer(b, at(TUE, 15) + timedelta(days=1), csat=2, fair_process=1)
    return org


def _figures(scope: KpiScope) -> dict[str, tuple[float | None, int]]:
    return {f.key: (f.value, f.count) for f in kpi_figures(scope=scope).figures}


def test_kpi_person_figures_match_the_hand_computed_values(fixture_org: Org) -> None:
    org = fixture_org
    fig = _figures(KpiScope(start=date(2026, 2, 1), end=date(2026, 3, 31), person=org.agent))
    assert fig["ack_time"] == (1.75, 2)
    assert fig["resolve_time"] == (6.5, 2)
    assert fig["steps_done"] == (50.0, 2)
    assert fig["promises"] == (50.0, 2)
    assert fig["csat"] == (3.5, 2)
    assert fig["csat_satisfied"] == (50.0, 2)
    assert fig["fair_outcome"] == (4.0, 1)
    assert fig["fair_process"] == (3.0, 2)
    assert fig["fair_treatment"] == (None, 0)
    assert fig["remedies"] == (None, 0)
    assert fig["compliments"] == (1.0, 1)


def test_kpi_team_figures_and_period_bounds(fixture_org: Org) -> None:
    org = fixture_org
    fig = _figures(KpiScope(start=date(2026, 3, 1), end=date(2026, 3, 31), team=org.team))
    assert fig["ack_time"] == (1.33, 3)
    assert fig["resolve_time"] == (5.0, 3)
    assert fig["steps_done"] == (66.67, 3)
    # Only Monday: cases A and C were resolved, B (Tuesday) was not
    monday = _figures(KpiScope(start=date(2026, 3, 2), end=date(2026, 3, 2), team=org.team))
    assert monday["resolve_time"] == (3.0, 2)
    assert monday["csat"] == (None, 0)


def test_kpi_drill_down_lists_the_cases_behind_the_figure(fixture_org: Org) -> None:
    org = fixture_org
    scope = KpiScope(start=date(2026, 3, 1), end=date(2026, 3, 31), person=org.agent)
    rows = list(kpi_cases(scope=scope))
    assert [r.resolve_seconds for r in rows] == [9 * 3600, 4 * 3600]
    assert [r.steps_all_done for r in rows] == [False, True]


def test_kpi_rebuild_gives_the_same_sums_as_the_live_updates(fixture_org: Org) -> None:
    before = sorted(KpiDay.objects.values_list("key", "resolved", "csat_sum", "compliments"))
    KpiDay.objects.all().delete()
    CaseKpi.objects.all().delete()
    result = kpi_rebuild()
    assert result["facts"] == 3
    after = sorted(KpiDay.objects.values_list("key", "resolved", "csat_sum", "compliments"))
    assert after == before


def test_kpi_reopen_removes_the_case_until_resolved_again(org: Org) -> None:
    from amends.cases.services.workflow import case_reopen
    from amends.feedback.tests.factories import resolved_case

    case = resolved_case(org)
    assert CaseKpi.objects.filter(case=case).exists()
    case_reopen(case=case, version=None, actor=org.agent, reason="Not fixed")
    assert not CaseKpi.objects.filter(case=case).exists()
    assert not KpiDay.objects.filter(resolved__gt=0).exists()


def test_champions_list_praise_in_name_order_and_never_low_scores(fixture_org: Org) -> None:
    org = fixture_org
    result = champions(
        scope=KpiScope(start=date(2026, 2, 1), end=timezone.now().date(), team=org.team)
    )
    assert [s.person.username for s in result.standouts] == ["alex"]
    assert result.standouts[0].reasons == ["1 compliment"]
    assert [c.text for c in result.recent_compliments] == ["Thanks!"]


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2026, 2, 27), date(2026, 3, 3)),  # days only
        (date(2026, 2, 1), date(2026, 3, 31)),  # two whole months
        (date(2026, 2, 15), date(2026, 4, 10)),  # edge days, a whole month, edge days
        (date(2026, 3, 2), date(2026, 3, 2)),
        (date(2025, 1, 1), date(2026, 12, 31)),
    ],
)
def test_kpi_sums_from_months_and_edge_days_equal_the_daily_sums(
    fixture_org: Org, start: date, end: date
) -> None:
    from django.db.models import Sum

    from amends.feedback.selectors import SUM_FIELDS, kpi_sums

    expected = KpiDay.objects.filter(day__gte=start, day__lte=end).aggregate(
        **{name: Sum(name) for name in SUM_FIELDS}
    )
    got = kpi_sums(KpiScope(start=start, end=end))
    assert got == {name: int(value or 0) for name, value in expected.items()}


def test_kpi_approval_decisions_count_for_the_decider(org: Org) -> None:
    from amends.core import hooks
    from amends.feedback.selectors import kpi_approvals
    from amends.feedback.tests.factories import resolved_case
    from amends.remedies.tests.factories import remedy_make

    case = resolved_case(org)
    decided_at = timezone.now()
    remedy = remedy_make(
        case=case,
        status="approved",
        proposed_by=org.agent,
        decided_by=org.supervisor,
        decided_at=decided_at,
        decision_seconds=5400,
    )
    # What the remedies service announces when an approver decides
    hooks.remedy_changed.emit(
        hooks.RemedyChanged(
            remedy_id=remedy.pk,
            case_id=case.pk,
            before="pending_approval",
            after="approved",
            actor_id=org.supervisor.pk,
        )
    )
    scope = KpiScope(start=decided_at.date(), end=decided_at.date(), team=org.team)
    assert _figures(scope)["approvals"] == (1.5, 1)
    assert list(kpi_approvals(scope=scope)) == [remedy]

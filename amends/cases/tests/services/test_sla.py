"""SLA clocks on real cases, in business hours of a calendar, with frozen time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from amends.accounts.choices import Role
from amends.accounts.tests.factories import UserFactory
from amends.cases.choices import CaseStatus, MessageDirection, Outcome, SlaState
from amends.cases.models import Case
from amends.cases.selectors import CaseFilters, case_list
from amends.cases.services.messages import case_message_add
from amends.cases.services.workflow import (
    case_acknowledge,
    case_await_customer,
    case_reopen,
    case_resolve,
    case_resume,
    case_update,
)
from amends.cases.tests.factories import CaseFactory, steps_complete
from amends.policies.business_hours import business_time_between
from amends.policies.tests.factories import (
    CalendarFactory,
    HolidayFactory,
    PlaybookFactory,
    SlaTargetFactory,
)

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")


def at(zone: ZoneInfo, year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=zone)


@pytest.fixture
def agent() -> Any:
    return UserFactory(role=Role.AGENT)


def make_playbook(timezone: str = "Europe/London") -> Any:
    """Default playbook, weekdays 09:00-17:00; severity 2: ack 2h, resolve 16h (2 days)."""
    calendar = CalendarFactory(timezone=timezone)
    playbook = PlaybookFactory(is_default=True, calendar=calendar)
    SlaTargetFactory(playbook=playbook, severity=2, acknowledge_minutes=120, resolve_minutes=960)
    SlaTargetFactory(playbook=playbook, severity=3, acknowledge_minutes=480, resolve_minutes=2400)
    return playbook


@pytest.fixture
def london() -> Any:
    return make_playbook()


def open_case(when: datetime, severity: int = 2) -> Case:
    with time_machine.travel(when, tick=False):
        return CaseFactory(severity=severity)


def test_sla_clocks_start_at_creation_inside_working_hours(london: Any) -> None:
    # Wednesday 10:00 in London (GMT in early March)
    case = open_case(at(LONDON, 2026, 3, 4, 10, 0))
    assert case.playbook == london
    assert case.ack_due_at == at(LONDON, 2026, 3, 4, 12, 0)
    # At risk when a quarter of the target is left: 90 of 120 minutes used
    assert case.ack_at_risk_at == at(LONDON, 2026, 3, 4, 11, 30)
    # 16 business hours: Wed 7h, Thu 8h, Fri 1h
    assert case.resolve_due_at == at(LONDON, 2026, 3, 6, 10, 0)
    assert case.resolve_at_risk_at == at(LONDON, 2026, 3, 5, 14, 0)  # 12h used
    assert case.sla_due_at == case.ack_due_at


def test_sla_clocks_skip_the_weekend(london: Any) -> None:
    # Friday 16:00: one hour left this week
    case = open_case(at(LONDON, 2026, 3, 6, 16, 0))
    assert case.ack_due_at == at(LONDON, 2026, 3, 9, 10, 0)  # Monday 10:00
    assert case.ack_at_risk_at == at(LONDON, 2026, 3, 9, 9, 30)
    # Fri 1h + Mon 8h + Tue 7h
    assert case.resolve_due_at == at(LONDON, 2026, 3, 10, 16, 0)


def test_sla_clocks_start_on_monday_when_opened_on_saturday(london: Any) -> None:
    case = open_case(at(LONDON, 2026, 3, 7, 13, 0))
    assert case.ack_due_at == at(LONDON, 2026, 3, 9, 11, 0)


def test_sla_clocks_skip_a_holiday(london: Any) -> None:
    HolidayFactory(calendar=london.calendar, date=date(2026, 3, 9), name="Closure day")
    case = open_case(at(LONDON, 2026, 3, 6, 16, 0))
    assert case.ack_due_at == at(LONDON, 2026, 3, 10, 10, 0)  # Tuesday: Monday is closed
    assert case.resolve_due_at == at(LONDON, 2026, 3, 11, 16, 0)


def test_sla_clocks_count_in_the_calendars_time_zone() -> None:
    make_playbook("America/New_York")
    # 13:00 UTC is 08:00 in New York (EST): the office opens an hour later
    case = open_case(datetime(2026, 3, 4, 13, 0, tzinfo=UTC))
    assert case.ack_due_at == datetime(2026, 3, 4, 16, 0, tzinfo=UTC)  # 11:00 EST


def test_sla_clocks_follow_daylight_saving_across_the_weekend() -> None:
    make_playbook("America/New_York")
    # Friday 16:00 EST; the clocks go forward on Sunday 8 March 2026
    case = open_case(at(NEW_YORK, 2026, 3, 6, 16, 0))
    assert case.ack_due_at == at(NEW_YORK, 2026, 3, 9, 10, 0)
    assert case.ack_due_at == datetime(2026, 3, 9, 14, 0, tzinfo=UTC)  # EDT is UTC-4


def test_sla_state_moves_from_on_track_to_at_risk_to_breached(london: Any, agent: Any) -> None:
    case = open_case(at(LONDON, 2026, 3, 4, 10, 0))
    expected = [
        (at(LONDON, 2026, 3, 4, 11, 29), SlaState.ON_TRACK),
        (at(LONDON, 2026, 3, 4, 11, 30), SlaState.AT_RISK),
        (at(LONDON, 2026, 3, 4, 11, 59), SlaState.AT_RISK),
        (at(LONDON, 2026, 3, 4, 12, 0), SlaState.BREACHED),
    ]
    manager = UserFactory(role=Role.MANAGER, team=None)
    for moment, state in expected:
        with time_machine.travel(moment, tick=False):
            assert case.sla_state == state
            found = case_list(user=manager, filters=CaseFilters(sla_state=state))
            assert list(found) == [case]


def test_sla_acknowledging_late_is_recorded_and_resolve_clock_takes_over(
    london: Any, agent: Any
) -> None:
    case = open_case(at(LONDON, 2026, 3, 4, 10, 0))
    with time_machine.travel(at(LONDON, 2026, 3, 4, 13, 0), tick=False):
        case = case_acknowledge(case=case, version=1, actor=agent)
        assert case.ack_met is False
        assert case.sla_due_at == at(LONDON, 2026, 3, 6, 10, 0)
        assert case.sla_state == SlaState.ON_TRACK
    with time_machine.travel(at(LONDON, 2026, 3, 5, 15, 0), tick=False):
        assert case.sla_state == SlaState.AT_RISK
    with time_machine.travel(at(LONDON, 2026, 3, 6, 10, 0), tick=False):
        assert case.sla_state == SlaState.BREACHED


def _paused_case(agent: Any) -> Case:
    case = open_case(at(LONDON, 2026, 3, 4, 10, 0))
    with time_machine.travel(at(LONDON, 2026, 3, 4, 10, 30), tick=False):
        case = case_acknowledge(case=case, version=1, actor=agent)
    with time_machine.travel(at(LONDON, 2026, 3, 4, 11, 0), tick=False):
        return case_await_customer(case=case, version=case.version, actor=agent)


def test_sla_resolve_clock_pauses_while_awaiting_customer(london: Any, agent: Any) -> None:
    case = _paused_case(agent)
    manager = UserFactory(role=Role.MANAGER, team=None)
    # Long after the original due time, a paused case is neither at risk nor breached
    with time_machine.travel(at(LONDON, 2026, 3, 9, 12, 0), tick=False):
        assert case.sla_state == SlaState.PAUSED
        assert list(case_list(user=manager, filters=CaseFilters(sla_state="paused"))) == [case]
        assert not case_list(user=manager, filters=CaseFilters(sla_state="breached")).exists()


def test_sla_inbound_message_resumes_and_extends_due_by_paused_business_time(
    london: Any, agent: Any
) -> None:
    case = _paused_case(agent)
    original_due = case.resolve_due_at
    assert original_due == at(LONDON, 2026, 3, 6, 10, 0)
    # The customer answers on Thursday 12:00: paused Wed 11-17 (6h) + Thu 9-12 (3h)
    with time_machine.travel(at(LONDON, 2026, 3, 5, 12, 0), tick=False):
        case_message_add(
            case=case, direction=MessageDirection.INBOUND, body="Here it is", actor=None
        )
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_RECOVERY
    assert case.sla_paused_seconds == 9 * 3600
    # 16h + 9h from Wed 10:00: Wed 7, Thu 8, Fri 8, Mon 2
    assert case.resolve_due_at == at(LONDON, 2026, 3, 9, 11, 0)
    assert case.sla_due_at == case.resolve_due_at
    calendar = london.calendar.business_calendar()
    assert business_time_between(
        calendar=calendar, start=original_due, end=case.resolve_due_at
    ) == timedelta(hours=9)
    assert case.awaiting_customer_since is None


def test_sla_resume_over_a_weekend_counts_only_business_time(london: Any, agent: Any) -> None:
    case = _paused_case(agent)
    # Resumed on Monday 10:00: paused Wed 6h + Thu 8h + Fri 8h + Mon 1h = 23h
    with time_machine.travel(at(LONDON, 2026, 3, 9, 10, 0), tick=False):
        case = case_resume(case=case, version=case.version, actor=agent)
    assert case.sla_paused_seconds == 23 * 3600
    event = case.events.order_by("-id").first()
    assert event.data["paused_seconds"] == 23 * 3600
    # 16h + 23h = 39h from Wed 10:00: Wed 7, Thu 8, Fri 8, Mon 8, Tue 8 = 39 -> Tue 17:00
    assert case.resolve_due_at == at(LONDON, 2026, 3, 10, 17, 0)


def test_sla_resolving_while_paused_adds_the_pause(london: Any, agent: Any) -> None:
    case = _paused_case(agent)
    steps_complete(case)
    with time_machine.travel(at(LONDON, 2026, 3, 6, 12, 0), tick=False):
        case = case_resolve(
            case=case,
            outcome=Outcome.UPHELD,
            version=case.version,
            actor=agent,
            confirm_undetermined=True,
        )
    case.refresh_from_db()
    # Paused Wed 6h + Thu 8h + Fri 3h = 17h; due moves from Fri 10:00 to Tue 11:00
    assert case.resolve_due_at == at(LONDON, 2026, 3, 10, 11, 0)
    assert case.sla_due_at is None
    assert case.sla_state == SlaState.MET


def test_sla_reopen_starts_a_fresh_resolve_clock(london: Any, agent: Any) -> None:
    case = _paused_case(agent)
    steps_complete(case)
    with time_machine.travel(at(LONDON, 2026, 3, 4, 12, 0), tick=False):
        case = case_resolve(
            case=case,
            outcome=Outcome.UPHELD,
            version=case.version,
            actor=agent,
            confirm_undetermined=True,
        )
    # Reopened the next Monday at 15:00: 16h from then is Wednesday 15:00
    with time_machine.travel(at(LONDON, 2026, 3, 9, 15, 0), tick=False):
        case = case_reopen(case=case, version=case.version, actor=agent)
        assert case.sla_state == SlaState.ON_TRACK
    case.refresh_from_db()
    assert case.sla_paused_seconds == 0
    assert case.resolve_clock_started_at == at(LONDON, 2026, 3, 9, 15, 0)
    assert case.resolve_due_at == at(LONDON, 2026, 3, 11, 15, 0)
    assert case.sla_due_at == case.resolve_due_at


def test_sla_resolved_late_counts_as_missed(london: Any, agent: Any) -> None:
    case = open_case(at(LONDON, 2026, 3, 4, 10, 0))
    with time_machine.travel(at(LONDON, 2026, 3, 4, 10, 5), tick=False):
        case = case_acknowledge(case=case, version=1, actor=agent)
    steps_complete(case)
    with time_machine.travel(at(LONDON, 2026, 3, 6, 10, 1), tick=False):
        case = case_resolve(
            case=case,
            outcome=Outcome.UPHELD,
            version=case.version,
            actor=agent,
            confirm_undetermined=True,
        )
    assert case.sla_state == SlaState.MISSED


def test_sla_severity_change_re_times_the_clocks(london: Any, agent: Any) -> None:
    case = open_case(at(LONDON, 2026, 3, 4, 10, 0), severity=3)
    assert case.ack_due_at == at(LONDON, 2026, 3, 5, 10, 0)  # 8 business hours
    with time_machine.travel(at(LONDON, 2026, 3, 4, 11, 0), tick=False):
        case = case_update(case=case, version=1, actor=agent, severity=2)
    case.refresh_from_db()
    # Re-timed from the case's creation with the severity 2 targets
    assert case.ack_due_at == at(LONDON, 2026, 3, 4, 12, 0)
    assert case.sla_due_at == case.ack_due_at
    assert case.resolve_due_at == at(LONDON, 2026, 3, 6, 10, 0)
    event = case.events.order_by("-id").first()
    assert event.data == {"severity": {"from": 3, "to": 2}}


def test_sla_falls_back_to_always_open_without_calendar(agent: Any) -> None:
    # No playbook and no calendar: the fallback targets in plain elapsed time
    start = datetime(2026, 3, 7, 10, 0, tzinfo=UTC)  # a Saturday
    case = open_case(start, severity=1)
    assert case.ack_due_at == start + timedelta(hours=1)
    assert case.resolve_due_at == start + timedelta(hours=8)


def test_sla_category_change_brings_its_playbook_and_re_times(london: Any, agent: Any) -> None:
    from amends.taxonomy.tests.factories import CategoryFactory

    urgent = CategoryFactory(name="Outage")
    outage = PlaybookFactory(category=urgent, calendar=london.calendar)
    SlaTargetFactory(playbook=outage, severity=2, acknowledge_minutes=30, resolve_minutes=240)
    case = open_case(at(LONDON, 2026, 3, 4, 10, 0))
    assert case.ack_due_at == at(LONDON, 2026, 3, 4, 12, 0)
    with time_machine.travel(at(LONDON, 2026, 3, 4, 10, 10), tick=False):
        case = case_update(case=case, version=1, actor=agent, category=urgent)
    case.refresh_from_db()
    assert case.playbook == outage
    assert case.ack_due_at == at(LONDON, 2026, 3, 4, 10, 30)
    assert case.resolve_due_at == at(LONDON, 2026, 3, 4, 14, 0)
    assert case.sla_due_at == case.ack_due_at
    event = case.events.order_by("-id").first()
    assert event.data["playbook"] == {"from": london.name, "to": outage.name}

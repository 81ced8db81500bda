"""SLA clocks on a case, counted in the business hours of the playbook's calendar.

Each clock is `start + target (+ time paused)` in business time; "at risk" is the moment
when only SLA_AT_RISK_FRACTION of the target is left. The resolve clock pauses while the
case awaits the customer; the paused business time is added back when it resumes.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from amends.cases.choices import CaseStatus
from amends.cases.models import Case
from amends.core.conf import amends_setting
from amends.policies.business_hours import add_business_time, business_time_between
from amends.policies.selectors import SlaPolicy, sla_policy_for


def _at_risk_fraction() -> float:
    return float(amends_setting("SLA_AT_RISK_FRACTION", 0.25))


def _clock(
    policy: SlaPolicy, start: datetime, target: timedelta, paused: timedelta
) -> tuple[datetime, datetime]:
    due = add_business_time(calendar=policy.calendar, start=start, delta=target + paused)
    at_risk = add_business_time(
        calendar=policy.calendar,
        start=start,
        delta=target * (1 - _at_risk_fraction()) + paused,
    )
    return due, at_risk


def sla_policy_of(case: Case) -> SlaPolicy:
    return sla_policy_for(playbook_id=case.playbook_id, severity=case.severity)


def sla_compute(case: Case, *, policy: SlaPolicy | None = None) -> None:
    """Set every due time on `case` (not saved) from its clocks' starts and its state."""
    policy = policy or sla_policy_of(case)
    case.ack_due_at, case.ack_at_risk_at = _clock(
        policy, case.created_at, policy.acknowledge, timedelta(0)
    )
    case.resolve_due_at, case.resolve_at_risk_at = _clock(
        policy,
        case.resolve_clock_started_at,
        policy.resolve,
        timedelta(seconds=case.sla_paused_seconds),
    )
    sla_current_clock(case)


def sla_current_clock(case: Case) -> None:
    if case.status in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
        case.sla_due_at = case.sla_at_risk_at = None
    elif case.status == CaseStatus.NEW:
        case.sla_due_at, case.sla_at_risk_at = case.ack_due_at, case.ack_at_risk_at
    else:
        case.sla_due_at, case.sla_at_risk_at = case.resolve_due_at, case.resolve_at_risk_at


def sla_resume(case: Case, *, now: datetime, policy: SlaPolicy | None = None) -> timedelta:
    """Add the business time spent awaiting the customer to the resolve clock."""
    policy = policy or sla_policy_of(case)
    paused = timedelta(0)
    if case.awaiting_customer_since is not None:
        paused = business_time_between(
            calendar=policy.calendar, start=case.awaiting_customer_since, end=now
        )
        case.sla_paused_seconds += int(paused.total_seconds())
        case.awaiting_customer_since = None
    sla_compute(case, policy=policy)
    return paused

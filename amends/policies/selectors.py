from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Prefetch

from amends.customers.models import Customer
from amends.policies.business_hours import BusinessCalendar
from amends.policies.choices import Audience
from amends.policies.models import (
    FALLBACK_SLA_MINUTES,
    Calendar,
    Holiday,
    Playbook,
    PlaybookStep,
    SlaTarget,
)
from amends.taxonomy.models import Category


@dataclass(frozen=True)
class SlaPolicy:
    calendar: BusinessCalendar
    acknowledge: timedelta
    resolve: timedelta


def _audiences_of(customer: Customer | None) -> list[str]:
    """The special audiences a customer belongs to, most specific first."""
    if customer is None:
        return []
    audiences: list[str] = []
    if customer.special_handling:
        audiences.append(Audience.SPECIAL_HANDLING)
    if customer.is_vip:
        audiences.append(Audience.VIP)
    return audiences


@dataclass
class _Snapshot:
    """All recovery policy configuration, read in a handful of queries. It is small (tens of
    playbooks and calendars) and read on every case write, so each process keeps a copy."""

    loaded_at: float
    playbooks: list[Playbook]
    by_id: dict[int, Playbook]
    targets: dict[tuple[int, int], SlaTarget]
    calendars: dict[int, BusinessCalendar]
    default_calendar: BusinessCalendar | None


# Configuration edits in this process clear the copy at once (policies.signals); other
# processes (more web workers, the worker) pick them up within this many seconds.
POLICY_CACHE_SECONDS = 30.0
_snapshot: _Snapshot | None = None


def policy_cache_clear() -> None:
    global _snapshot
    _snapshot = None


def _policy_snapshot() -> _Snapshot:
    global _snapshot
    snap = _snapshot
    if snap is not None and time.monotonic() - snap.loaded_at < POLICY_CACHE_SECONDS:
        return snap
    steps = Prefetch("steps", queryset=PlaybookStep.objects.order_by("position", "id"))
    playbooks = list(Playbook.objects.prefetch_related(steps).order_by("id"))
    holidays: dict[int, list[date]] = {}
    for calendar_id, day in Holiday.objects.values_list("calendar_id", "date"):
        holidays.setdefault(calendar_id, []).append(day)
    calendars: dict[int, BusinessCalendar] = {}
    default: BusinessCalendar | None = None
    for calendar in Calendar.objects.all():
        calendars[calendar.pk] = calendar.business_calendar(holidays.get(calendar.pk, []))
        if calendar.is_default:
            default = calendars[calendar.pk]
    snap = _Snapshot(
        loaded_at=time.monotonic(),
        playbooks=playbooks,
        by_id={p.pk: p for p in playbooks},
        targets={(t.playbook_id, t.severity): t for t in SlaTarget.objects.all()},
        calendars=calendars,
        default_calendar=default,
    )
    _snapshot = snap
    return snap


def playbook_get(*, playbook_id: int) -> Playbook | None:
    return _policy_snapshot().by_id.get(playbook_id)


def playbook_for_category(
    *, category: Category | None, customer: Customer | None = None
) -> Playbook | None:
    """The category's playbook, else its parent's, else the default playbook. For VIP and
    special-handling customers a playbook configured for their audience comes first (one for
    the category, else one for the audience as a whole)."""
    playbooks = _policy_snapshot().playbooks
    candidates: list[int] = []
    if category is not None:
        candidates = [category.pk]
        if category.parent_id:
            candidates.append(category.parent_id)
    audiences = _audiences_of(customer)
    if audiences:
        special = [
            p
            for p in playbooks
            if p.audience in audiences and (p.category_id in candidates or p.category_id is None)
        ]

        def rank(p: Playbook) -> tuple[int, int]:
            where = candidates.index(p.category_id) if p.category_id in candidates else 9
            return (where, audiences.index(p.audience))

        if special:
            return min(special, key=rank)
    ordinary = [p for p in playbooks if p.audience == Audience.ANY]
    found = {p.category_id: p for p in ordinary if p.category_id in candidates}
    for candidate in candidates:
        if candidate in found:
            return found[candidate]
    return next((p for p in ordinary if p.is_default), None)


def business_calendar_for(*, playbook: Playbook | None) -> BusinessCalendar:
    snap = _policy_snapshot()
    if playbook is not None and playbook.calendar_id in snap.calendars:
        return snap.calendars[playbook.calendar_id]
    return snap.default_calendar or BusinessCalendar.always_open()


def sla_policy_for(
    *, playbook: Playbook | None = None, severity: int, playbook_id: int | None = None
) -> SlaPolicy:
    """SLA targets and calendar for a playbook (or its id) and severity, from the cache."""
    snap = _policy_snapshot()
    if playbook is None and playbook_id is not None:
        playbook = snap.by_id.get(playbook_id)
    target = snap.targets.get((playbook.pk, severity)) if playbook is not None else None
    if target is not None:
        ack, resolve = target.acknowledge_minutes, target.resolve_minutes
    else:
        fallback = FALLBACK_SLA_MINUTES[severity]
        ack, resolve = fallback["acknowledge"], fallback["resolve"]
    return SlaPolicy(
        calendar=business_calendar_for(playbook=playbook),
        acknowledge=timedelta(minutes=ack),
        resolve=timedelta(minutes=resolve),
    )

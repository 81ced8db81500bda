from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Prefetch

from amends.policies.business_hours import BusinessCalendar
from amends.policies.models import (
    FALLBACK_SLA_MINUTES,
    Calendar,
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


def playbook_for_category(*, category: Category | None) -> Playbook | None:
    """The category's playbook, else its parent's, else the default playbook."""
    steps = Prefetch("steps", queryset=PlaybookStep.objects.order_by("position", "id"))
    qs = Playbook.objects.select_related("calendar").prefetch_related(steps)
    if category is not None:
        candidates = [category.pk]
        if category.parent_id:
            candidates.append(category.parent_id)
        found = {p.category_id: p for p in qs.filter(category_id__in=candidates)}
        for candidate in candidates:
            if candidate in found:
                return found[candidate]
    return qs.filter(is_default=True).first()


def calendar_default() -> Calendar | None:
    return Calendar.objects.filter(is_default=True).first()


def business_calendar_for(*, playbook: Playbook | None) -> BusinessCalendar:
    calendar = playbook.calendar if playbook and playbook.calendar_id else calendar_default()
    if calendar is None:
        return BusinessCalendar.always_open()
    return calendar.business_calendar()


def sla_policy_for(*, playbook: Playbook | None, severity: int) -> SlaPolicy:
    target = (
        SlaTarget.objects.filter(playbook=playbook, severity=severity).first()
        if playbook is not None
        else None
    )
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

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Prefetch, Q

from amends.customers.models import Customer
from amends.policies.business_hours import BusinessCalendar
from amends.policies.models import (
    FALLBACK_SLA_MINUTES,
    Audience,
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


def playbook_for_category(
    *, category: Category | None, customer: Customer | None = None
) -> Playbook | None:
    """The category's playbook, else its parent's, else the default playbook. For VIP and
    special-handling customers a playbook configured for their audience comes first (one for
    the category, else one for the audience as a whole)."""
    steps = Prefetch("steps", queryset=PlaybookStep.objects.order_by("position", "id"))
    qs = Playbook.objects.select_related("calendar").prefetch_related(steps)
    candidates: list[int] = []
    if category is not None:
        candidates = [category.pk]
        if category.parent_id:
            candidates.append(category.parent_id)
    audiences = _audiences_of(customer)
    if audiences:
        special = list(
            qs.filter(audience__in=audiences).filter(
                Q(category_id__in=candidates) | Q(category__isnull=True)
            )
        )

        def rank(p: Playbook) -> tuple[int, int]:
            where = candidates.index(p.category_id) if p.category_id in candidates else 9
            return (where, audiences.index(p.audience))

        if special:
            return min(special, key=rank)
    qs = qs.filter(audience=Audience.ANY)
    if candidates:
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

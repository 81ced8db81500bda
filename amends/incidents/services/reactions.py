"""What the incidents app does when lower apps report something (core hooks).

Each reaction updates the impact rows and the incident's counters by the same amount, in the
emitter's transaction; conditional updates make a change reported twice count once.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from amends.cases.choices import MessageDirection
from amends.cases.selectors import case_get
from amends.core import hooks
from amends.incidents.models import Impact
from amends.incidents.selectors import menus_chosen
from amends.incidents.services.counters import incident_counters_add
from amends.remedies.choices import COST_STATUSES, RemedyStatus
from amends.remedies.selectors import remedy_get, remedy_list_for_case

CHOSEN_AFTER = {RemedyStatus.GRANTED, RemedyStatus.PENDING_APPROVAL, RemedyStatus.APPROVED}


def on_remedy_changed(payload: hooks.RemedyChanged) -> None:
    """A remedy moved on a case an incident opened: the funnel's "chose" when the customer
    picked from their menu, and the recovery cost recomputed from the case's remedies."""
    impact = (
        Impact.objects.filter(case_id=payload.case_id)
        .only("pk", "incident_id", "menu_id", "cost")
        .first()
    )
    if impact is None:
        return
    remedy = remedy_get(remedy_id=payload.remedy_id)
    now = timezone.now()
    if (
        impact.menu_id is not None
        and remedy.menu_id == impact.menu_id
        and payload.before == RemedyStatus.OFFERED
        and payload.after in CHOSEN_AFTER
        and Impact.objects.filter(pk=impact.pk, chose_at__isnull=True).update(
            chose_at=now, updated_at=now
        )
    ):
        incident_counters_add(incident_id=impact.incident_id, chose_count=1)
    _cost_sync(impact, payload.case_id, now)


def on_message_added(payload: hooks.MessageAdded) -> None:
    """The customer wrote in on the case their incident opened: they complained anyway."""
    if payload.direction != MessageDirection.INBOUND:
        return
    now = timezone.now()
    for impact in Impact.objects.filter(case_id=payload.case_id, complained_at__isnull=True).only(
        "pk", "incident_id"
    ):
        if Impact.objects.filter(pk=impact.pk, complained_at__isnull=True).update(
            complained_at=now, updated_at=now
        ):
            incident_counters_add(incident_id=impact.incident_id, complained_count=1)


def on_survey_answered(payload: hooks.SurveyAnswered) -> None:
    if payload.case_id is None:
        return
    now = timezone.now()
    for impact in Impact.objects.filter(case_id=payload.case_id).only(
        "pk", "incident_id", "surveyed_at"
    ):
        Impact.objects.filter(pk=impact.pk).update(
            surveyed_at=impact.surveyed_at or now, survey_csat=payload.csat, updated_at=now
        )
        if impact.surveyed_at is None:
            incident_counters_add(incident_id=impact.incident_id, surveyed_count=1)


def _cost_sync(impact: Impact, case_id: int, now: datetime) -> None:
    cost = sum(
        (
            r.amount
            for r in remedy_list_for_case(case=case_get(case_id=case_id))
            if r.amount is not None and r.status in COST_STATUSES
        ),
        Decimal("0"),
    )
    if cost != impact.cost:
        Impact.objects.filter(pk=impact.pk).update(cost=cost, updated_at=now)
        incident_counters_add(incident_id=impact.incident_id, cost=cost - impact.cost)


def impacts_choices_sync(*, now: datetime, limit: int = 5_000) -> int:
    """Safety net for a missed `remedy_changed`: menus chosen since the last run count as
    "chose" (and their cost) at the latest at the next sweep. Idempotent."""
    pending = list(
        Impact.objects.filter(menu_id__isnull=False, chose_at__isnull=True)
        .only("pk", "incident_id", "menu_id", "case_id", "cost")
        .order_by("id")[:limit]
    )
    if not pending:
        return 0
    chosen = menus_chosen(menu_ids=[i.menu_id for i in pending if i.menu_id is not None])
    done = 0
    for impact in pending:
        if impact.menu_id not in chosen or impact.case_id is None:
            continue
        with transaction.atomic():
            if Impact.objects.filter(pk=impact.pk, chose_at__isnull=True).update(
                chose_at=now, updated_at=now
            ):
                incident_counters_add(incident_id=impact.incident_id, chose_count=1)
                _cost_sync(impact, impact.case_id, now)
                done += 1
    return done


def subscribe() -> None:
    hooks.remedy_changed.subscribe(on_remedy_changed)
    hooks.message_added.subscribe(on_message_added)
    hooks.survey_answered.subscribe(on_survey_answered)

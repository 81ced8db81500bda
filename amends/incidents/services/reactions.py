"""What the incidents app does when lower apps report something (core hooks)."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import F
from django.utils import timezone

from amends.cases.choices import MessageDirection
from amends.core import hooks
from amends.incidents.models import Impact
from amends.remedies.choices import RemedyStatus
from amends.remedies.selectors import remedy_get

CHOSEN_AFTER = {RemedyStatus.GRANTED, RemedyStatus.PENDING_APPROVAL, RemedyStatus.APPROVED}
COST_AFTER = {RemedyStatus.GRANTED, RemedyStatus.APPROVED}


def on_remedy_changed(payload: hooks.RemedyChanged) -> None:
    """A customer picked from the menu their incident gave them: the funnel's "chose", and
    the cost once the remedy is granted (within the policy owner's authority)."""
    impact = (
        Impact.objects.filter(case_id=payload.case_id, menu_id__isnull=False)
        .only("pk", "menu_id", "chose_at")
        .first()
    )
    if impact is None:
        return
    remedy = remedy_get(remedy_id=payload.remedy_id)
    if remedy.menu_id != impact.menu_id:
        return
    now = timezone.now()
    if payload.before == RemedyStatus.OFFERED and payload.after in CHOSEN_AFTER:
        Impact.objects.filter(pk=impact.pk, chose_at__isnull=True).update(
            chose_at=now, updated_at=now
        )
    counted_before = payload.before in COST_AFTER
    if payload.after in COST_AFTER and not counted_before and remedy.amount is not None:
        Impact.objects.filter(pk=impact.pk).update(
            cost=F("cost") + Decimal(remedy.amount), updated_at=now
        )


def on_message_added(payload: hooks.MessageAdded) -> None:
    """The customer wrote in on the case their incident opened: they complained anyway."""
    if payload.direction != MessageDirection.INBOUND:
        return
    now = timezone.now()
    Impact.objects.filter(case_id=payload.case_id, complained_at__isnull=True).update(
        complained_at=now, updated_at=now
    )


def on_survey_answered(payload: hooks.SurveyAnswered) -> None:
    if payload.case_id is None:
        return
    now = timezone.now()
    Impact.objects.filter(case_id=payload.case_id).update(
        surveyed_at=now, survey_csat=payload.csat, updated_at=now
    )


def subscribe() -> None:
    hooks.remedy_changed.subscribe(on_remedy_changed)
    hooks.message_added.subscribe(on_message_added)
    hooks.survey_answered.subscribe(on_survey_answered)

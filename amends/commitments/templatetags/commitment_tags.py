from __future__ import annotations

from typing import Any

from django import template
from django.contrib.auth.models import User
from django.utils import timezone

from amends.accounts.models import StaffProfile
from amends.accounts.selectors import staff_list
from amends.cases.models import Case
from amends.cases.selectors import case_viewers
from amends.commitments.choices import (
    CommitmentKind,
    CommitmentStatus,
    EscalationLevel,
    TrafficLight,
)
from amends.commitments.models import Commitment
from amends.commitments.selectors import commitment_list_for_case, escalation_list_for_case
from amends.commitments.services.escalations import escalation_can_decide

register = template.Library()


# Traffic light -> the shared stylesheet's badge classes (green, amber, red).
_LIGHT_BADGE: dict[str, str] = {
    TrafficLight.GREEN: "on_track",
    TrafficLight.AMBER: "due_soon",
    TrafficLight.RED: "breached",
}


@register.filter
def commitment_badge(commitment: Commitment) -> str:
    """The badge class suffix of a promise: its traffic light while open, else its status."""
    light = str(getattr(commitment, "light_now", None) or commitment.light_at())
    if commitment.status != CommitmentStatus.OPEN:
        return str(commitment.status)
    return _LIGHT_BADGE.get(light, "open")


def _rank(user: User | None) -> int:
    try:
        return user.staff.rank if user is not None else 0
    except StaffProfile.DoesNotExist:
        return 0


def _possible_owners(case: Case) -> list[User]:
    """Staff who can see the case (commitment_create refuses anyone else as owner): on a
    routed case its team, whoever holds it, managers and admins; on an unrouted one, all."""
    return list(case_viewers(case=case, people=staff_list()))


def case_panel_context(*, case: Case, user: User | None) -> dict[str, Any]:
    """What the promises & escalations panel on the case page shows."""
    now = timezone.now()
    commitments = commitment_list_for_case(case=case)
    for c in commitments:
        c.light_now = c.light_at(now)  # type: ignore[attr-defined]  # for the template
    escalations = escalation_list_for_case(case=case)
    rank = _rank(user)
    for e in escalations:
        # Only those who may decide see the decision form (the service checks again).
        e.can_decide = user is not None and escalation_can_decide(  # type: ignore[attr-defined]
            actor_rank=rank, actor_id=user.pk, escalation=e
        )
    return {
        "case": case,
        "commitments": commitments,
        "escalations": escalations,
        "staff": _possible_owners(case),
        "me": user,
        "kinds": CommitmentKind.choices,
        "levels": EscalationLevel.choices,
        "now": now,
    }


@register.inclusion_tag("web/commitments/_case_panel.html", takes_context=True)
def case_commitments_panel(context: dict[str, Any], case: Case) -> dict[str, Any]:
    """The promises and escalations panel on the case page."""
    request = context.get("request")
    user = getattr(request, "user", None)
    return {
        **case_panel_context(case=case, user=user if user and user.is_authenticated else None),
        "request": request,
        "csrf_token": context.get("csrf_token"),
    }

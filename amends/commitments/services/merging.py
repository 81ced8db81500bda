"""When a duplicate case is merged, its promises and escalations move to the surviving case."""

from __future__ import annotations

from django.utils import timezone

from amends.commitments.choices import EscalationStatus
from amends.commitments.models import Commitment, Escalation
from amends.core import hooks


def on_case_merged(payload: hooks.CaseMerged) -> None:
    now = timezone.now()
    Commitment.objects.filter(case_id=payload.duplicate_id).update(
        case_id=payload.survivor_id, updated_at=now
    )
    # At most one open automatic escalation per case and reason: a duplicate's open one for a
    # reason the survivor already has stays behind and is settled when the duplicate closes.
    taken = Escalation.objects.filter(
        case_id=payload.survivor_id, status=EscalationStatus.OPEN, automatic=True
    ).values_list("reason", flat=True)
    Escalation.objects.filter(case_id=payload.duplicate_id).exclude(
        status=EscalationStatus.OPEN, automatic=True, reason__in=list(taken)
    ).update(case_id=payload.survivor_id, updated_at=now)


def subscribe() -> None:
    hooks.case_merged.subscribe(on_case_merged)

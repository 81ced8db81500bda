"""What a resolved or closed case leaves behind in commitments: escalations still waiting for a
decision. They are closed with a recorded reason (an `escalation_decided` event marked
`settled`), so nobody is asked to decide on a finished case and the escalation sweep stops
bumping them. Their time to decision is left empty: a settled escalation was never decided,
and must not flatter the decision-time measures. Open promises stay open: a promise to the
customer outlives the case and stays visible on it.

Subscribed to `case_status_changed` in CommitmentsConfig.ready(); runs inside the case's
transaction."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from amends.cases.choices import CaseStatus
from amends.cases.models import Case
from amends.cases.services.events import case_event_record
from amends.commitments.choices import CaseEventKinds, EscalationStatus
from amends.commitments.models import Escalation
from amends.core import hooks

SETTLING_STATUSES = (CaseStatus.RESOLVED, CaseStatus.CLOSED)


def _decision(status: str, actor: User | None) -> str:
    who = (actor.get_full_name() or actor.username) if actor is not None else "the system"
    done = "resolved" if status == CaseStatus.RESOLVED else "closed"
    return f"No decision needed: {who} {done} the case before one was made."


@transaction.atomic
def escalations_settle_for_case(*, case_id: int, status: str, actor: User | None) -> int:
    """Close the case's open escalations with the reason; returns how many."""
    open_ones = list(
        Escalation.objects.select_for_update()
        .filter(case_id=case_id, status=EscalationStatus.OPEN)
        .order_by("id")
    )
    if not open_ones:
        return 0
    case = Case.objects.get(pk=case_id)
    now = timezone.now()
    decision = _decision(status, actor)
    for escalation in open_ones:
        escalation.status = EscalationStatus.DECIDED
        escalation.decision = decision
        escalation.decided_at = now
        escalation.decided_by = actor
        escalation.decision_seconds = None
        escalation.save(
            update_fields=[
                "status",
                "decision",
                "decided_at",
                "decided_by",
                "decision_seconds",
                "updated_at",
            ]
        )
        case_event_record(
            case=case,
            kind=CaseEventKinds.ESCALATION_DECIDED,
            actor=actor,
            data={
                "escalation": escalation.pk,
                "status": {"from": EscalationStatus.OPEN, "to": EscalationStatus.DECIDED},
                "level": escalation.level,
                "decision": decision,
                "settled": True,
            },
        )
    return len(open_ones)


def on_case_status_changed(payload: hooks.CaseStatusChanged) -> None:
    if payload.after not in SETTLING_STATUSES:
        return
    actor = User.objects.filter(pk=payload.actor_id).first() if payload.actor_id else None
    escalations_settle_for_case(case_id=payload.case_id, status=payload.after, actor=actor)


def subscribe() -> None:
    hooks.case_status_changed.subscribe(on_case_status_changed)

"""What a resolved or closed case leaves behind in remedies: approval requests nobody needs any
more. They are cancelled with the reason on the case's timeline (remedy_cancelled), so the
approver's list no longer shows them and the decision sweep leaves them alone. Granted,
approved and issued remedies are promises to the customer and stay as they are.

Subscribed to `case_status_changed` in RemediesConfig.ready(); runs inside the case's
transaction, so the resolve and the cancellations commit or roll back together."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from amends.cases.choices import CaseStatus
from amends.core import hooks
from amends.remedies.choices import RemedyStatus
from amends.remedies.models import Remedy
from amends.remedies.services.remedies import remedy_cancel

SETTLING_STATUSES = (CaseStatus.RESOLVED, CaseStatus.CLOSED)
_REASONS: dict[str, str] = {
    CaseStatus.RESOLVED: "No longer needed: the case was resolved before a decision.",
    CaseStatus.CLOSED: "No longer needed: the case was closed before a decision.",
}


@transaction.atomic
def remedies_settle_for_case(*, case_id: int, status: str, actor: User | None) -> int:
    """Cancel the case's approval requests still waiting; returns how many."""
    reason = _REASONS.get(status, "No longer needed: the case ended before a decision.")
    pending = list(
        Remedy.objects.filter(case_id=case_id, status=RemedyStatus.PENDING_APPROVAL).order_by("id")
    )
    for remedy in pending:
        remedy_cancel(remedy=remedy, reason=reason, actor=actor)
    return len(pending)


def on_case_status_changed(payload: hooks.CaseStatusChanged) -> None:
    if payload.after not in SETTLING_STATUSES:
        return
    actor = User.objects.filter(pk=payload.actor_id).first() if payload.actor_id else None
    remedies_settle_for_case(case_id=payload.case_id, status=payload.after, actor=actor)


def subscribe() -> None:
    hooks.case_status_changed.subscribe(on_case_status_changed)

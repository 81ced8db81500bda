"""Periodic work for remedies, run by `amends sweep` / the worker (settings.AMENDS_SWEEPS)."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction

from amends.cases.choices import CaseStatus
from amends.core import hooks
from amends.remedies.choices import RemedyStatus
from amends.remedies.models import Remedy
from amends.remedies.services.remedies import remedy_escalate

logger = logging.getLogger(__name__)
BATCH = 200


def approval_sweep(*, now: datetime) -> int:
    """Escalate every approval past its decision due time one level up; returns how many.

    Idempotent: an escalated approval gets a new due time in the future, and one with nobody
    above is flagged so later sweeps skip it. Several workers may run it at once: each claims
    rows with SKIP LOCKED (PostgreSQL) and `remedy_escalate` re-checks under the row lock.
    """
    escalated = 0
    seen: set[int] = set()
    while True:
        with transaction.atomic():
            ids = list(
                Remedy.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(
                    status=RemedyStatus.PENDING_APPROVAL,
                    decision_due_at__lte=now,
                    escalation_exhausted=False,
                )
                # A closed case needs no more chasing of its approvers.
                .exclude(case__status=CaseStatus.CLOSED)
                .exclude(pk__in=seen)
                .order_by("decision_due_at", "id")
                .values_list("pk", flat=True)[:BATCH]
            )
            for pk in ids:
                seen.add(pk)
                try:
                    with transaction.atomic():
                        if remedy_escalate(remedy=Remedy(pk=pk), now=now):
                            escalated += 1
                        _escalate_case(pk, now)
                except Exception:
                    # One bad row must not stop the sweep for everyone else.
                    logger.exception("approval_sweep: could not escalate remedy %s", pk)
        if len(ids) < BATCH:
            return escalated


def _escalate_case(remedy_id: int, now: datetime) -> None:
    """A remedy decision left undecided past its due time is also a case escalation to
    management: announced with `remedy_approval_overdue` (commitments opens the escalation,
    once per case while it is open)."""
    case_id, due_at = Remedy.objects.values_list("case_id", "decision_due_at").get(pk=remedy_id)
    hooks.remedy_approval_overdue.emit(
        hooks.RemedyApprovalOverdue(
            remedy_id=remedy_id, case_id=case_id, due_at=due_at or now, now=now
        )
    )

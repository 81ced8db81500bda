"""The periodic sweeps of commitments (listed in settings.AMENDS_SWEEPS and run by
`amends.core.sweeps.sweeps_run`: `amends sweep` once, `amends worker` on a schedule). The SLA
sweep is the cases app's (`amends.cases.sweeps.sla_sweep`); commitments reacts to it in
`services.reactions` (the SLA escalations and at-risk notifications).

Each sweep finds newly-due rows with one index range scan that reads ids only, then handles
them in batches (`amends.core.sweeps.sweep_in_batches`). A batch is one transaction that first
takes its rows (PostgreSQL: FOR UPDATE SKIP LOCKED, so workers running at once split the work;
SQLite: BEGIN IMMEDIATE makes one writer at a time), re-checks them in a fresh statement, and
commits its changes, events and notifications together. A killed sweep loses at most the batch
in flight, which the next run redoes; unique constraints on escalations and notifications are
the last guard.
"""

from __future__ import annotations

import logging
from datetime import datetime

from amends.commitments.choices import CommitmentStatus, EscalationLevel, EscalationStatus
from amends.commitments.models import Commitment, Escalation, Notification
from amends.commitments.models.commitments import reminder_lead
from amends.commitments.services.commitments import commitments_break, commitments_remind
from amends.commitments.services.escalations import escalation_bump
from amends.commitments.services.routing import Routing
from amends.core.conf import amends_setting
from amends.core.sweeps import MAX_PER_RUN, sweep_in_batches, sweep_locked_ids

logger = logging.getLogger(__name__)

# ---- promises --------------------------------------------------------------------------------


def commitment_sweep(*, now: datetime) -> int:
    """Open promises past due become broken (a second failure); promises due within the
    reminder lead time remind their owner once."""
    routing = Routing.load()
    overdue = list(
        Commitment.objects.filter(status=CommitmentStatus.OPEN, due_at__lt=now)
        .order_by("status", "due_at", "id")
        .values_list("pk", flat=True)[:MAX_PER_RUN]
    )

    def breaking(chunk: list[int]) -> int:
        locked = sweep_locked_ids(Commitment.objects.filter(pk__in=chunk))
        return commitments_break(ids=locked, now=now, routing=routing)

    broken = sweep_in_batches(overdue, breaking)

    until = now + reminder_lead()
    due_soon = list(
        Commitment.objects.filter(
            status=CommitmentStatus.OPEN,
            reminder_sent_at__isnull=True,
            due_at__gt=now,
            due_at__lte=until,
        )
        .order_by("due_at", "id")
        .values_list("pk", flat=True)[:MAX_PER_RUN]
    )

    def reminding(chunk: list[int]) -> int:
        locked = sweep_locked_ids(Commitment.objects.filter(pk__in=chunk))
        return commitments_remind(ids=locked, now=now, lead_until=until)

    return broken + sweep_in_batches(due_soon, reminding)


# ---- escalations -----------------------------------------------------------------------------


def escalation_sweep(*, now: datetime) -> int:
    """Escalations left undecided past their decision time go one level up (once per level:
    the new level gets a fresh decision time)."""
    routing = Routing.load()
    overdue = list(
        Escalation.objects.filter(
            status=EscalationStatus.OPEN,
            decision_due_at__lt=now,
            level__in=[EscalationLevel.SUPERVISOR, EscalationLevel.MANAGER],
        )
        .order_by("status", "decision_due_at", "id")
        .values_list("pk", flat=True)[:MAX_PER_RUN]
    )

    def bump(chunk: list[int]) -> int:
        locked = sweep_locked_ids(Escalation.objects.filter(pk__in=chunk))
        rows = (
            Escalation.objects.filter(
                pk__in=locked, status=EscalationStatus.OPEN, decision_due_at__lt=now
            )
            .select_related("case")
            .order_by("id")
        )
        done = 0
        for escalation in rows:
            bumped = escalation_bump(
                escalation=escalation,
                now=now,
                routing=routing,
                ref=escalation.case.ref,
                team_id=escalation.case.team_id,
                playbook_id=escalation.case.playbook_id,
            )
            done += bumped is not None
        return done

    return sweep_in_batches(overdue, bump)


# ---- email -----------------------------------------------------------------------------------


def notification_email_sweep(*, now: datetime) -> int:
    """Emails are sent by a task enqueued when notifications are created; if that task failed
    (mail server down), the unsent ones would wait for the next notification. Each sweep round
    enqueues it again while any recent notification is unsent (the task sends each once).
    Returns 1 when it enqueued the task."""
    from amends.commitments.tasks import EMAIL_MAX_AGE, notifications_email_send

    if not amends_setting("NOTIFICATION_EMAIL", True):
        return 0
    unsent = Notification.objects.filter(
        emailed_at__isnull=True,
        created_at__gte=now - EMAIL_MAX_AGE,
        recipient__email__gt="",
    )
    if not unsent.exists():
        return 0
    notifications_email_send.enqueue()
    return 1

"""The periodic sweeps of commitments (listed in settings.AMENDS_SWEEPS and run by
`amends.core.sweeps.sweeps_run`: `amends sweep` once, `amends worker` on a schedule).

Each sweep finds newly-due rows with one index range scan that reads ids only, then handles
them in batches. A batch is one transaction that first takes its rows (PostgreSQL: FOR UPDATE
SKIP LOCKED, so workers running at once split the work; SQLite: BEGIN IMMEDIATE makes one
writer at a time), re-checks them in a fresh statement, and commits its changes, events and
notifications together. A killed sweep loses at most the batch in flight, which the next run
redoes; unique constraints on escalations and notifications are the last guard.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import datetime

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet

from amends.cases.choices import CaseStatus
from amends.cases.models import Case, case_ref
from amends.commitments.choices import (
    CommitmentStatus,
    EscalationLevel,
    EscalationReason,
    EscalationStatus,
    NotificationKind,
)
from amends.commitments.models import Commitment, Escalation, Notification
from amends.commitments.models.commitments import reminder_lead
from amends.commitments.services.commitments import commitments_break, commitments_remind
from amends.commitments.services.escalations import (
    EscalationSpec,
    escalation_bump,
    escalations_open_automatic,
)
from amends.commitments.services.notifications import (
    NotificationSpec,
    notifications_create,
)
from amends.commitments.services.routing import Routing
from amends.core.conf import amends_setting
from amends.core.organisation import organisation_moment

logger = logging.getLogger(__name__)

# One sweep run handles at most this many rows of a kind; the rest wait for the next run.
MAX_PER_RUN = 200_000


def _batch_size() -> int:
    value = amends_setting("SWEEP_BATCH_SIZE", 1000)
    return int(value) if isinstance(value, int | str) else 1000


def _chunks(ids: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _locked_ids(qs: QuerySet[Case] | QuerySet[Commitment] | QuerySet[Escalation]) -> list[int]:
    """Take these rows for this transaction; rows another worker holds are skipped."""
    return list(qs.select_for_update(skip_locked=True, of=("self",)).values_list("pk", flat=True))


def _in_batches(ids: list[int], handle: Callable[[list[int]], int]) -> int:
    done = 0
    for chunk in _chunks(ids, _batch_size()):
        with transaction.atomic():
            done += handle(chunk)
    return done


# ---- SLA -------------------------------------------------------------------------------------


def _sla_live() -> QuerySet[Case]:
    return Case.objects.filter(sla_due_at__isnull=False).exclude(
        status=CaseStatus.AWAITING_CUSTOMER
    )


def _breach_candidates(now: datetime) -> QuerySet[Case]:
    # Already escalated for this breach: an open SLA escalation, or one raised after the
    # current due time (a decided one stays decided until the clock is re-timed and breached
    # again). Probes escalation_case_reason_idx.
    escalated = Escalation.objects.filter(
        case_id=OuterRef("pk"), reason=EscalationReason.SLA_BREACHED
    ).filter(Q(status=EscalationStatus.OPEN) | Q(raised_at__gte=OuterRef("sla_due_at")))
    return _sla_live().filter(sla_due_at__lte=now).filter(~Exists(escalated))


def _at_risk_candidates(now: datetime) -> QuerySet[Case]:
    announced = Notification.objects.filter(
        case_id=OuterRef("pk"),
        kind=NotificationKind.SLA_AT_RISK,
        created_at__gte=OuterRef("sla_at_risk_at"),
    )
    return (
        _sla_live()
        .filter(sla_due_at__gt=now, sla_at_risk_at__lte=now, assignee__isnull=False)
        .filter(~Exists(announced))
    )


def sla_sweep(*, now: datetime) -> int:
    """Breached open cases get an SLA escalation (once per breach) and their assignee hears;
    cases newly at risk get one notification to their assignee."""
    routing = Routing.load()

    def breach(chunk: list[int]) -> int:
        locked = _locked_ids(Case.objects.filter(pk__in=chunk))
        rows = list(
            _breach_candidates(now)
            .filter(pk__in=locked)
            .values_list("pk", "team_id", "playbook_id", "assignee_id")
        )
        created = escalations_open_automatic(
            specs=[
                EscalationSpec(
                    case_id=pk,
                    ref=case_ref(pk),
                    team_id=team_id,
                    playbook_id=playbook_id,
                    reason=EscalationReason.SLA_BREACHED,
                    level=EscalationLevel.SUPERVISOR,
                    note="The SLA clock ran out.",
                    also_notify_id=assignee_id,
                )
                for pk, team_id, playbook_id, assignee_id in rows
            ],
            now=now,
            routing=routing,
        )
        return len(created)

    def at_risk(chunk: list[int]) -> int:
        locked = _locked_ids(Case.objects.filter(pk__in=chunk))
        rows = list(
            _at_risk_candidates(now)
            .filter(pk__in=locked)
            .values_list("pk", "assignee_id", "sla_due_at", "sla_at_risk_at")
        )
        notifications_create(
            specs=[
                NotificationSpec(
                    recipient_id=assignee_id,
                    kind=NotificationKind.SLA_AT_RISK,
                    message=f"{case_ref(pk)} is at risk of missing its SLA, due "
                    f"{organisation_moment(due)}.",
                    dedupe_key=f"sla_at_risk:{pk}:{at_risk_at:%Y%m%dT%H%M%S}",
                    case_id=pk,
                )
                for pk, assignee_id, due, at_risk_at in rows
            ]
        )
        return len(rows)

    breach_ids = list(
        _breach_candidates(now)
        .order_by("sla_due_at", "id")
        .values_list("pk", flat=True)[:MAX_PER_RUN]
    )
    risk_ids = list(_at_risk_candidates(now).order_by().values_list("pk", flat=True)[:MAX_PER_RUN])
    return _in_batches(breach_ids, breach) + _in_batches(sorted(risk_ids), at_risk)


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
        locked = _locked_ids(Commitment.objects.filter(pk__in=chunk))
        return commitments_break(ids=locked, now=now, routing=routing)

    broken = _in_batches(overdue, breaking)

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
        locked = _locked_ids(Commitment.objects.filter(pk__in=chunk))
        return commitments_remind(ids=locked, now=now, lead_until=until)

    return broken + _in_batches(due_soon, reminding)


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
        locked = _locked_ids(Escalation.objects.filter(pk__in=chunk))
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

    return _in_batches(overdue, bump)


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

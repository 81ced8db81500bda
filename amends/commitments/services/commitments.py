"""The commitment ledger: promises made to a customer, kept, cancelled, rescheduled, broken."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from django.contrib.auth.models import User
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from amends.accounts.models import StaffProfile
from amends.accounts.selectors import staff_profile_of
from amends.cases.models import Case
from amends.cases.selectors import case_visible_to
from amends.cases.services.batch import (
    EventRow,
    case_events_record_many,
    cases_mark_double_deviation,
    cases_raise_severity,
)
from amends.cases.services.events import case_event_record
from amends.commitments.choices import (
    CaseEventKinds,
    CommitmentKind,
    CommitmentStatus,
    EscalationLevel,
    EscalationReason,
    NotificationKind,
)
from amends.commitments.models import Commitment, CommitmentDueChange
from amends.commitments.services.escalations import (
    EscalationSpec,
    escalations_open_automatic,
)
from amends.commitments.services.notifications import (
    NotificationSpec,
    notifications_create,
)
from amends.commitments.services.routing import Routing
from amends.core import hooks
from amends.core.exceptions import ApplicationError
from amends.core.organisation import organisation_moment


def _invalid(message: str, field: str, code: str = "invalid_commitment") -> ApplicationError:
    return ApplicationError(message, code=code, status=422, detail={field: [message]})


# Evidence files are served only through a permission-checked download view; keep them small.
EVIDENCE_MAX_BYTES = 10 * 1024 * 1024


def _check_owner(owner: User, case: Case) -> None:
    if not owner.is_active or not StaffProfile.objects.filter(user=owner).exists():
        raise _invalid(
            f"{owner.username} is not an active staff member; a promise needs a staff owner.",
            "owner",
            code="invalid_owner",
        )
    # The owner has to be able to open the case to keep the promise (and to read the
    # reminders and the broken-promise notice about it).
    if not case_visible_to(user=owner).filter(pk=case.pk).exists():
        raise _invalid(
            f"{owner.username} cannot see {case.ref}; choose an owner from the case's team.",
            "owner",
            code="invalid_owner",
        )


def _check_remedy(remedy_id: int | None, case: Case) -> None:
    if remedy_id is None:
        return
    from amends.remedies.models import Remedy  # the remedies app is optional for promises

    if not Remedy.objects.filter(pk=remedy_id, case_id=case.pk).exists():
        raise _invalid(
            f"Remedy {remedy_id} is not a remedy on {case.ref}.", "remedy_id", code="invalid_remedy"
        )


def _check_future(due_at: datetime, now: datetime) -> None:
    if timezone.is_naive(due_at):
        raise _invalid("Give the due time with a time zone.", "due_at")
    if due_at <= now:
        raise _invalid("The due time must be in the future.", "due_at", code="due_in_past")


def _announce(commitment: Commitment, *, before: str, actor: User) -> None:
    hooks.commitment_changed.emit(
        hooks.CommitmentChanged(
            commitment_id=commitment.pk,
            case_id=commitment.case_id,
            before=str(before),
            after=str(commitment.status),
            actor_id=actor.pk,
        )
    )


def _lock(commitment: Commitment) -> Commitment:
    return Commitment.objects.select_for_update().select_related("case").get(pk=commitment.pk)


def _refuse_unless_open(commitment: Commitment, action: str) -> None:
    if commitment.status != CommitmentStatus.OPEN:
        raise ApplicationError(
            f"Only an open promise can be {action}; this one is {commitment.status}.",
            code="commitment_not_open",
            status=409,
            detail={"status": commitment.status},
        )


@transaction.atomic
def commitment_create(
    *,
    case: Case,
    kind: str,
    description: str,
    owner: User,
    due_at: datetime,
    actor: User,
    customer_visible: bool = True,
    remedy_id: int | None = None,
) -> Commitment:
    staff_profile_of(user=actor)
    if kind not in CommitmentKind.values:
        raise _invalid(f"Unknown kind {kind!r}; use {', '.join(CommitmentKind.values)}.", "kind")
    description = description.strip()
    if not description:
        raise _invalid("Write the promise down in the customer's words.", "description")
    _check_owner(owner, case)
    _check_remedy(remedy_id, case)
    _check_future(due_at, timezone.now())
    if not case.is_open:
        raise ApplicationError(
            "Promises are made on open cases; reopen the case first.",
            code="case_not_open",
            status=409,
        )
    commitment = Commitment.objects.create(
        case=case,
        kind=kind,
        description=description,
        owner=owner,
        due_at=due_at,
        customer_visible=customer_visible,
        remedy_id=remedy_id,
        created_by=actor,
    )
    case_event_record(
        case=case,
        kind=CaseEventKinds.COMMITMENT_MADE,
        actor=actor,
        data={
            "commitment": commitment.pk,
            "kind": kind,
            "description": description,
            "owner": owner.username,
            "due_at": due_at.isoformat(),
            "customer_visible": customer_visible,
            "remedy": remedy_id,
        },
    )
    _announce(commitment, before="", actor=actor)
    return commitment


@transaction.atomic
def commitment_keep(
    *,
    commitment: Commitment,
    actor: User,
    note: str = "",
    reference: str = "",
    evidence: File[bytes] | None = None,
) -> Commitment:
    """Mark a promise kept, with evidence: a note, a reference or a file (at least one)."""
    staff_profile_of(user=actor)
    note, reference = note.strip(), reference.strip()
    if not (note or reference or evidence):
        raise _invalid("Say how the promise was kept (a note, a reference or a file).", "note")
    if evidence is not None and (evidence.size or 0) > EVIDENCE_MAX_BYTES:
        raise _invalid(
            f"The evidence file is larger than {EVIDENCE_MAX_BYTES // (1024 * 1024)} MB.",
            "evidence",
        )
    commitment = _lock(commitment)
    _refuse_unless_open(commitment, "kept")
    commitment.status = CommitmentStatus.KEPT
    commitment.kept_at = timezone.now()
    commitment.kept_by = actor
    commitment.kept_note = note
    commitment.kept_reference = reference[:200]
    if evidence is not None:
        commitment.kept_file = evidence
    commitment.save()
    case_event_record(
        case=commitment.case,
        kind=CaseEventKinds.COMMITMENT_KEPT,
        actor=actor,
        data={
            "commitment": commitment.pk,
            "status": {"from": CommitmentStatus.OPEN, "to": CommitmentStatus.KEPT},
            "on_time": commitment.kept_on_time,
            "note": note,
            "reference": reference,
            "file": commitment.kept_file.name if commitment.kept_file else "",
        },
    )
    _announce(commitment, before=CommitmentStatus.OPEN, actor=actor)
    return commitment


@transaction.atomic
def commitment_cancel(
    *, commitment: Commitment, reason: str, customer_informed: bool, actor: User
) -> Commitment:
    staff_profile_of(user=actor)
    reason = reason.strip()
    if not reason:
        raise _invalid("Cancelling a promise needs a reason.", "reason")
    commitment = _lock(commitment)
    _refuse_unless_open(commitment, "cancelled")
    commitment.status = CommitmentStatus.CANCELLED
    commitment.cancelled_at = timezone.now()
    commitment.cancel_reason = reason
    commitment.customer_informed = customer_informed
    commitment.save()
    case_event_record(
        case=commitment.case,
        kind=CaseEventKinds.COMMITMENT_CANCELLED,
        actor=actor,
        data={
            "commitment": commitment.pk,
            "status": {"from": CommitmentStatus.OPEN, "to": CommitmentStatus.CANCELLED},
            "reason": reason,
            "customer_informed": customer_informed,
        },
    )
    _announce(commitment, before=CommitmentStatus.OPEN, actor=actor)
    return commitment


@transaction.atomic
def commitment_reschedule(
    *, commitment: Commitment, due_at: datetime, reason: str, actor: User
) -> Commitment:
    """Move the due time; every earlier due time stays in the history."""
    staff_profile_of(user=actor)
    reason = reason.strip()
    if not reason:
        raise _invalid("Rescheduling a promise needs a reason.", "reason")
    _check_future(due_at, timezone.now())
    commitment = _lock(commitment)
    _refuse_unless_open(commitment, "rescheduled")
    previous = commitment.due_at
    CommitmentDueChange.objects.create(
        commitment=commitment,
        previous_due_at=previous,
        new_due_at=due_at,
        reason=reason,
        actor=actor,
    )
    commitment.due_at = due_at
    commitment.reminder_sent_at = None  # a new due time deserves a new reminder
    commitment.save(update_fields=["due_at", "reminder_sent_at", "updated_at"])
    case_event_record(
        case=commitment.case,
        kind=CaseEventKinds.COMMITMENT_RESCHEDULED,
        actor=actor,
        data={
            "commitment": commitment.pk,
            "due_at": {"from": previous.isoformat(), "to": due_at.isoformat()},
            "reason": reason,
        },
    )
    _announce(commitment, before=CommitmentStatus.OPEN, actor=actor)
    return commitment


def _supervisor_of(owner_id: int, routing: Routing, teams: Mapping[int, int | None]) -> int | None:
    team_id = teams.get(owner_id)
    return routing.supervisors.get(team_id) if team_id is not None else None


def commitments_break(*, ids: list[int], now: datetime, routing: Routing) -> int:
    """Break these open, overdue promises: a second failure on their cases.

    The caller holds the rows (SKIP LOCKED / SQLite's write lock) inside one transaction. Each
    case is flagged a double deviation and rises one severity level per broken promise (SLA
    re-timed, on the timeline); owners and their supervisors are told; an escalation opens.
    """
    rows = list(
        Commitment.objects.filter(pk__in=ids, status=CommitmentStatus.OPEN, due_at__lt=now)
        .select_related("case", "owner")
        .only(
            "id",
            "kind",
            "description",
            "owner_id",
            "due_at",
            "case__id",
            "case__team_id",
            "case__playbook_id",
        )
        .order_by("id")
    )
    if not rows:
        return 0
    Commitment.objects.filter(pk__in=[c.pk for c in rows]).update(
        status=CommitmentStatus.BROKEN, broken_at=now, updated_at=now
    )
    case_ids = sorted({c.case_id for c in rows})
    # The cases' rows and timelines are written by cases' set-based services.
    case_events_record_many(
        events=[
            EventRow(
                case_id=c.case_id,
                kind=CaseEventKinds.COMMITMENT_BROKEN,
                data={
                    "commitment": c.pk,
                    "status": {"from": CommitmentStatus.OPEN, "to": CommitmentStatus.BROKEN},
                    "kind": c.kind,
                    "description": c.description,
                    "owner": c.owner.username,
                    "due_at": c.due_at.isoformat(),
                },
            )
            for c in rows
        ],
        at=now,
    )
    cases_mark_double_deviation(case_ids=case_ids, cause="broken_promise", at=now)
    raises: dict[int, int] = {}
    for c in rows:
        raises[c.case_id] = raises.get(c.case_id, 0) + 1
    cases_raise_severity(raises=raises, cause="broken_promise", at=now)

    teams = dict(
        StaffProfile.objects.filter(user_id__in={c.owner_id for c in rows}).values_list(
            "user_id", "team_id"
        )
    )
    kinds = {value: str(label).lower() for value, label in CommitmentKind.choices}
    notes: list[NotificationSpec] = []
    for c in rows:
        message = (
            f"{c.case.ref}: the promise '{c.description[:120]}' ({kinds[c.kind]}) "
            f"due {organisation_moment(c.due_at)} was not kept and is now broken."
        )
        supervisor = _supervisor_of(c.owner_id, routing, teams)
        for recipient in [c.owner_id] + (
            [supervisor] if supervisor not in (None, c.owner_id) else []
        ):
            notes.append(
                NotificationSpec(
                    recipient_id=recipient,
                    kind=NotificationKind.COMMITMENT_BROKEN,
                    message=message,
                    dedupe_key=f"commitment:{c.pk}:broken",
                    case_id=c.case_id,
                )
            )
    notifications_create(specs=notes)
    escalations_open_automatic(
        specs=[
            EscalationSpec(
                case_id=c.case_id,
                ref=c.case.ref,
                team_id=c.case.team_id,
                playbook_id=c.case.playbook_id,
                reason=EscalationReason.BROKEN_PROMISE,
                level=EscalationLevel.SUPERVISOR,
                note=f"Broken promise: {c.description[:300]}",
            )
            for c in rows
        ],
        now=now,
        routing=routing,
    )
    hooks.commitments_broken.emit(
        hooks.CommitmentsBroken(
            commitment_ids=tuple(c.pk for c in rows), case_ids=tuple(case_ids), now=now
        )
    )
    return len(rows)


def commitments_remind(*, ids: list[int], now: datetime, lead_until: datetime) -> int:
    """Remind owners of these open promises falling due soon, once (caller holds the rows)."""
    rows = list(
        Commitment.objects.filter(
            pk__in=ids,
            status=CommitmentStatus.OPEN,
            reminder_sent_at__isnull=True,
            due_at__gt=now,
            due_at__lte=lead_until,
        )
        .select_related("case")
        .order_by("id")
    )
    if not rows:
        return 0
    Commitment.objects.filter(pk__in=[c.pk for c in rows]).update(reminder_sent_at=now)
    notifications_create(
        specs=[
            NotificationSpec(
                recipient_id=c.owner_id,
                kind=NotificationKind.COMMITMENT_REMINDER,
                message=(
                    f"{c.case.ref}: your promise '{c.description[:120]}' is due "
                    f"{organisation_moment(c.due_at)}."
                ),
                dedupe_key=f"commitment:{c.pk}:remind:{c.due_at.isoformat()}",
                case_id=c.case_id,
            )
            for c in rows
        ]
    )
    return len(rows)

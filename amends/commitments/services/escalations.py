"""Escalations: raised by staff or automatically, decided once, bumped a level when overdue.

The case's own SLA clock keeps running while management decides: nothing here pauses it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from amends.accounts.selectors import staff_profile_of
from amends.cases.models import Case
from amends.cases.selectors import case_visible_to
from amends.cases.services.batch import EventRow, case_events_record_many
from amends.cases.services.events import case_event_record
from amends.commitments.choices import (
    CaseEventKinds,
    EscalationLevel,
    EscalationReason,
    EscalationStatus,
    NotificationKind,
    level_above,
)
from amends.commitments.models import Escalation
from amends.commitments.services.notifications import (
    NotificationSpec,
    notifications_create,
)
from amends.commitments.services.routing import Routing
from amends.core import hooks
from amends.core.exceptions import ApplicationError
from amends.core.organisation import organisation_moment
from amends.core.rows import db_datetime, insert_rows


@dataclass(frozen=True)
class EscalationSpec:
    """An automatic escalation to open (used in bulk by the sweeps)."""

    case_id: int
    ref: str
    team_id: int | None
    playbook_id: int | None
    reason: str
    level: str = EscalationLevel.SUPERVISOR
    note: str = ""
    decision_minutes: int | None = None
    # Someone besides the assignee who should hear about it (e.g. the case's assignee).
    also_notify_id: int | None = None


def _assigned_notification(escalation: Escalation, ref: str) -> NotificationSpec | None:
    if escalation.assignee_id is None:
        return None
    return NotificationSpec(
        recipient_id=escalation.assignee_id,
        kind=NotificationKind.ESCALATION_ASSIGNED,
        message=(
            f"{ref}: {escalation.get_reason_display()} escalated to you "
            f"({escalation.get_level_display().lower()}), decide by "
            f"{organisation_moment(escalation.decision_due_at)}."
        ),
        dedupe_key=f"escalation:{escalation.pk}:{escalation.level}",
        case_id=escalation.case_id,
    )


def _labels() -> tuple[dict[str, str], dict[str, str]]:
    """Display names, translated once per batch (a sweep formats thousands of messages)."""
    return (
        {value: str(label) for value, label in EscalationReason.choices},
        {value: str(label).lower() for value, label in EscalationLevel.choices},
    )


def _assigned_message(*, ref: str, reason: str, level: str, due: datetime) -> str:
    reasons, levels = _labels()
    return _message(ref, reasons[reason], levels[level], due)


def _message(ref: str, reason: str, level: str, due: datetime) -> str:
    return f"{ref}: {reason} escalated to you ({level}), decide by {organisation_moment(due)}."


def escalations_open_automatic(
    *, specs: list[EscalationSpec], now: datetime, routing: Routing | None = None
) -> list[int]:
    """Open automatic escalations and announce them; returns the ids of those opened.

    A (case, reason) that already has an open automatic escalation is skipped by the database
    itself (the partial unique constraint, ON CONFLICT DO NOTHING), so two workers racing, a
    retried batch or a rule firing twice can never open a second one.
    """
    if not specs:
        return []
    routing = routing or Routing.load()
    wanted: dict[tuple[int, str], EscalationSpec] = {}
    for spec in specs:
        wanted.setdefault((spec.case_id, spec.reason), spec)
    at = db_datetime(now)
    reasons, levels = _labels()
    db_dues: dict[datetime, object] = {}
    dues: dict[tuple[int, str], datetime] = {}
    rows = []
    for key, spec in wanted.items():
        due = routing.decision_due(
            playbook_id=spec.playbook_id,
            level=spec.level,
            start=now,
            minutes=spec.decision_minutes,
        )
        dues[key] = due
        assignee = routing.assignee_for(level=spec.level, team_id=spec.team_id)
        rows.append(
            (
                spec.case_id,
                spec.level,
                spec.reason,
                spec.note,
                True,
                at,
                assignee,
                db_dues.setdefault(due, db_datetime(due)),
                EscalationStatus.OPEN,
                "",
                0,
                at,
                at,
            )
        )
    created = insert_rows(
        model=Escalation,
        columns=[
            "case_id",
            "level",
            "reason",
            "note",
            "automatic",
            "raised_at",
            "assignee_id",
            "decision_due_at",
            "status",
            "decision",
            "bumps",
            "created_at",
            "updated_at",
        ],
        rows=rows,
        skip_conflicts=True,
        returning=["id", "case_id", "reason", "assignee_id"],
    )
    events = []
    notes: list[NotificationSpec] = []
    for pk, case_id, reason, assignee_id in created:
        spec = wanted[(case_id, reason)]
        due = dues[(case_id, reason)]
        data = {
            "escalation": pk,
            "reason": reason,
            "level": spec.level,
            "automatic": True,
            "assignee": routing.usernames.get(assignee_id) if assignee_id else None,
            "decision_due_at": due.isoformat(),
            "note": spec.note,
        }
        events.append(EventRow(case_id=case_id, kind=CaseEventKinds.ESCALATED, data=data))
        if assignee_id is not None:
            notes.append(
                NotificationSpec(
                    recipient_id=assignee_id,
                    kind=NotificationKind.ESCALATION_ASSIGNED,
                    message=_message(spec.ref, reasons[reason], levels[spec.level], due),
                    dedupe_key=f"escalation:{pk}:{spec.level}",
                    case_id=case_id,
                )
            )
        if spec.also_notify_id and spec.also_notify_id != assignee_id:
            notes.append(
                NotificationSpec(
                    recipient_id=spec.also_notify_id,
                    kind=(
                        NotificationKind.SLA_BREACHED
                        if reason == EscalationReason.SLA_BREACHED
                        else NotificationKind.ESCALATION_ASSIGNED
                    ),
                    message=f"{spec.ref}: {reasons[reason]}; escalated to {levels[spec.level]}.",
                    dedupe_key=f"escalation:{pk}:watch",
                    case_id=case_id,
                )
            )
    case_events_record_many(events=events, at=now)
    notifications_create(specs=notes)
    for pk, case_id, reason, _assignee_id in created:
        hooks.escalation_opened.emit(
            hooks.EscalationOpened(
                escalation_id=pk,
                case_id=case_id,
                level=wanted[(case_id, reason)].level,
                reason=reason,
            )
        )
    return [row[0] for row in created]


@transaction.atomic
def escalation_open_automatic(
    *,
    case: Case,
    reason: str,
    level: str = EscalationLevel.SUPERVISOR,
    note: str = "",
    decision_minutes: int | None = None,
    now: datetime | None = None,
) -> Escalation | None:
    """One automatic escalation (rules, approvals left undecided); None if one is open."""
    if reason not in EscalationReason.values or reason == EscalationReason.MANUAL:
        raise ApplicationError(f"Unknown automatic reason {reason!r}.", code="invalid_reason")
    created = escalations_open_automatic(
        specs=[
            EscalationSpec(
                case_id=case.pk,
                ref=case.ref,
                team_id=case.team_id,
                playbook_id=case.playbook_id,
                reason=reason,
                level=level,
                note=note,
                decision_minutes=decision_minutes,
                also_notify_id=case.assignee_id,
            )
        ],
        now=now or timezone.now(),
    )
    return Escalation.objects.get(pk=created[0]) if created else None


# The staff rank (accounts.ROLE_RANK) that may decide each level: supervisor, manager, admin.
LEVEL_RANK: dict[str, int] = {
    EscalationLevel.SUPERVISOR: 2,
    EscalationLevel.MANAGER: 3,
    EscalationLevel.EXECUTIVE: 4,
}


def _check_level(level: str) -> None:
    if level not in EscalationLevel.values:
        raise ApplicationError(
            f"Unknown level {level!r}; use {', '.join(EscalationLevel.values)}.",
            code="invalid_level",
            status=422,
            detail={"level": [f"Choose one of {', '.join(EscalationLevel.values)}."]},
        )


@transaction.atomic
def escalation_raise(
    *, case: Case, level: str, note: str, actor: User, assignee: User | None = None
) -> Escalation:
    """Staff refer a case up. The assignee defaults to the nearest person of that level."""
    staff_profile_of(user=actor)
    _check_level(level)
    note = note.strip()
    if not note:
        raise ApplicationError(
            "Say why you escalate.",
            code="note_required",
            status=422,
            detail={"note": ["Required."]},
        )
    if not case.is_open:
        raise ApplicationError(
            "Only an open case can be escalated.", code="case_not_open", status=409
        )
    if assignee is not None:
        assignee_profile = staff_profile_of(user=assignee)
        if not assignee.is_active or assignee_profile.rank < LEVEL_RANK[level]:
            raise ApplicationError(
                f"{assignee.username} cannot decide a {level} escalation; choose someone of "
                "that level or above.",
                code="invalid_assignee",
                status=422,
                detail={"assignee": [f"Must be of {level} level or above."]},
            )
        # The same rule as remedy approvers and promise owners: whoever decides must be able
        # to open the case (else they would see its reference and note but not the case).
        if not case_visible_to(user=assignee).filter(pk=case.pk).exists():
            raise ApplicationError(
                f"{assignee.username} cannot see {case.ref}; choose someone of the case's team "
                "or a manager.",
                code="invalid_assignee",
                status=422,
                detail={"assignee": ["Cannot see this case."]},
            )
    routing = Routing.load()
    now = timezone.now()
    escalation = Escalation(
        case=case,
        level=level,
        reason=EscalationReason.MANUAL,
        note=note,
        automatic=False,
        raised_by=actor,
        raised_at=now,
        assignee_id=assignee.pk
        if assignee is not None
        else routing.assignee_for(level=level, team_id=case.team_id),
        decision_due_at=routing.decision_due(playbook_id=case.playbook_id, level=level, start=now),
    )
    escalation.save()
    case_event_record(
        case=case,
        kind=CaseEventKinds.ESCALATED,
        actor=actor,
        data={
            "escalation": escalation.pk,
            "reason": escalation.reason,
            "level": level,
            "automatic": False,
            "assignee": escalation.assignee.username if escalation.assignee else None,
            "decision_due_at": escalation.decision_due_at.isoformat(),
            "note": note,
        },
    )
    assigned = _assigned_notification(escalation, case.ref)
    if assigned is not None and escalation.assignee_id != actor.pk:
        notifications_create(specs=[assigned])
    hooks.escalation_opened.emit(
        hooks.EscalationOpened(
            escalation_id=escalation.pk, case_id=case.pk, level=level, reason=escalation.reason
        )
    )
    return escalation


def escalation_can_decide(*, actor_rank: int, actor_id: int, escalation: Escalation) -> bool:
    """The assignee, or anyone of the escalation's level or above (the assignee is always of
    that level or above: escalation_raise refuses a lower one)."""
    return escalation.assignee_id == actor_id or actor_rank >= LEVEL_RANK[escalation.level]


def _can_decide(actor: User, escalation: Escalation) -> None:
    profile = staff_profile_of(user=actor)
    if not escalation_can_decide(actor_rank=profile.rank, actor_id=actor.pk, escalation=escalation):
        raise ApplicationError(
            f"A {escalation.get_level_display().lower()} escalation is decided by its "
            "assignee or someone of that level or above.",
            code="forbidden",
            status=403,
        )


@transaction.atomic
def escalation_decide(*, escalation: Escalation, decision: str, actor: User) -> Escalation:
    decision = decision.strip()
    if not decision:
        raise ApplicationError(
            "A decision needs text.",
            code="decision_required",
            status=422,
            detail={"decision": ["Required."]},
        )
    locked = Escalation.objects.select_for_update().select_related("case").get(pk=escalation.pk)
    if locked.status == EscalationStatus.DECIDED:
        raise ApplicationError(
            "This escalation was already decided.",
            code="already_decided",
            status=409,
            detail={"decided_at": locked.decided_at.isoformat() if locked.decided_at else None},
        )
    _can_decide(actor, locked)
    now = timezone.now()
    locked.status = EscalationStatus.DECIDED
    locked.decision = decision
    locked.decided_at = now
    locked.decided_by = actor
    locked.decision_seconds = max(0, int((now - locked.raised_at).total_seconds()))
    locked.save(
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
        case=locked.case,
        kind=CaseEventKinds.ESCALATION_DECIDED,
        actor=actor,
        data={
            "escalation": locked.pk,
            "status": {"from": EscalationStatus.OPEN, "to": EscalationStatus.DECIDED},
            "level": locked.level,
            "decision": decision,
            "on_time": now <= locked.decision_due_at,
            "seconds": locked.decision_seconds,
        },
    )
    watchers = {locked.raised_by_id, locked.case.assignee_id} - {None, actor.pk}
    notifications_create(
        specs=[
            NotificationSpec(
                recipient_id=user_id,
                kind=NotificationKind.ESCALATION_DECIDED,
                message=f"{locked.case.ref}: escalation decided: {decision[:300]}",
                dedupe_key=f"escalation:{locked.pk}:decided",
                case_id=locked.case_id,
            )
            for user_id in watchers
            if user_id is not None
        ]
    )
    return locked


def escalation_bump(
    *,
    escalation: Escalation,
    now: datetime,
    routing: Routing,
    ref: str,
    team_id: int | None,
    playbook_id: int | None,
) -> Escalation | None:
    """Move an overdue escalation one level up with a fresh decision time (caller locks it)."""
    target = level_above(escalation.level)
    if target is None:
        return None
    before = escalation.level
    escalation.level = target
    escalation.assignee_id = routing.assignee_for(level=target, team_id=team_id)
    escalation.decision_due_at = routing.decision_due(
        playbook_id=playbook_id, level=target, start=now
    )
    escalation.bumps += 1
    escalation.save(update_fields=["level", "assignee", "decision_due_at", "bumps", "updated_at"])
    case_events_record_many(
        events=[
            EventRow(
                case_id=escalation.case_id,
                kind=CaseEventKinds.ESCALATION_BUMPED,
                data={
                    "escalation": escalation.pk,
                    "level": {"from": before, "to": target},
                    "assignee": routing.usernames.get(escalation.assignee_id)
                    if escalation.assignee_id
                    else None,
                    "decision_due_at": escalation.decision_due_at.isoformat(),
                },
            )
        ],
        at=now,
    )
    assigned = _assigned_notification(escalation, ref)
    if assigned is not None:
        notifications_create(specs=[assigned])
    return escalation

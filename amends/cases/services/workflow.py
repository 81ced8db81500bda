"""Moving a case through its recovery: acknowledge, steps, assign, resolve, close, reopen.

Every action locks the case row, checks the version the caller saw (a stale one changes
nothing), applies one legal transition, bumps the version and appends a timeline event.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from amends.accounts.choices import Role
from amends.accounts.models import Team
from amends.accounts.selectors import staff_profile_of
from amends.cases.choices import (
    DONE_STATUSES,
    TRANSITIONS,
    CaseEventKind,
    CaseStatus,
    Fault,
    Outcome,
    StepState,
)
from amends.cases.models import Case, CaseStep
from amends.cases.selectors import case_step_refusal
from amends.cases.services.events import case_event_record, changes
from amends.cases.services.intake import case_steps_create
from amends.cases.services.sla import sla_compute, sla_current_clock, sla_resume
from amends.core import hooks
from amends.core.exceptions import ApplicationError, PermissionDeniedError, StaleVersionError
from amends.policies.choices import RecoveryStep, StepDue
from amends.policies.selectors import playbook_for_category
from amends.taxonomy.models import Category, RootCause, Service


def case_lock(*, case: Case, version: int | None) -> Case:
    """Re-read the case under a row lock and refuse if it moved past `version`."""
    # of=("self",): PostgreSQL cannot lock the nullable side of the outer join to playbook.
    locked = Case.objects.select_for_update(of=("self",)).select_related("playbook").get(pk=case.pk)
    if version is not None and locked.version != version:
        raise StaleVersionError(expected=version, actual=locked.version)
    return locked


def _transition(case: Case, target: str) -> None:
    if target not in TRANSITIONS[case.status]:
        raise ApplicationError(
            f"A case that is {case.get_status_display().lower()} cannot become "
            f"{CaseStatus(target).label.lower()}.",
            code="illegal_transition",
            status=409,
            detail={"from": case.status, "to": target},
        )


def _save(case: Case, fields: Iterable[str]) -> None:
    case.version += 1
    case.save(update_fields=[*fields, "version", "updated_at"])


def _status_event(case: Case, before: str, actor: User | None, kind: str, **data: Any) -> None:
    case_event_record(
        case=case,
        kind=kind,
        actor=actor,
        data={"status": {"from": before, "to": case.status}, **data},
    )
    if before != case.status:
        hooks.case_status_changed.emit(
            hooks.CaseStatusChanged(
                case_id=case.pk,
                before=before,
                after=case.status,
                actor_id=actor.pk if actor is not None else None,
            )
        )


def _step_mark_done(case: Case, step: str, actor: User | None, note: str) -> CaseStep | None:
    row = case.steps.filter(step=step).first()
    if row is None or row.state != StepState.PENDING:
        return None
    row.state = StepState.DONE
    row.actor = actor
    row.at = timezone.now()
    row.note = note
    row.save(update_fields=["state", "actor", "at", "note", "updated_at"])
    return row


SLA_FIELDS = [
    "ack_due_at",
    "ack_at_risk_at",
    "resolve_due_at",
    "resolve_at_risk_at",
    "resolve_clock_started_at",
    "sla_paused_seconds",
    "sla_due_at",
    "sla_at_risk_at",
]


@transaction.atomic
def case_acknowledge(*, case: Case, version: int | None, actor: User, note: str = "") -> Case:
    """Acknowledge the customer: stops the acknowledge clock and starts counting the resolve one."""
    case = case_lock(case=case, version=version)
    _transition(case, CaseStatus.ACKNOWLEDGED)
    before = case.status
    case.status = CaseStatus.ACKNOWLEDGED
    case.acknowledged_at = timezone.now()
    routing: dict[str, Any] = {}
    if case.assignee_id is None:
        # Whoever acknowledges an unowned case takes it (and, if unrouted, into their team).
        case.assignee = actor
        routing["assignee"] = {"from": None, "to": actor.username}
        if case.team_id is None:
            case.team = staff_profile_of(user=actor).team
            if case.team is not None:
                routing["team"] = {"from": None, "to": case.team.name}
    sla_current_clock(case)
    _save(case, ["status", "acknowledged_at", "assignee", "team", "sla_due_at", "sla_at_risk_at"])
    _step_mark_done(case, RecoveryStep.ACKNOWLEDGE, actor, note)
    _status_event(
        case,
        before,
        actor,
        CaseEventKind.ACKNOWLEDGED,
        on_time=case.ack_met,
        note=note,
        **routing,
    )
    return case


def _step_row(case: Case, step: str) -> CaseStep:
    if step not in RecoveryStep.values:
        raise ApplicationError(
            f"Unknown step {step!r}; steps are {', '.join(RecoveryStep.values)}.",
            code="unknown_step",
            status=422,
        )
    row = case.steps.filter(step=step).first()
    if row is None:
        raise ApplicationError(
            f"This case's playbook has no {step!r} step.", code="step_not_in_playbook", status=409
        )
    return row


def _step_preconditions(case: Case, row: CaseStep, *, skip: bool = False) -> None:
    refusal = case_step_refusal(case=case, step=row, skip=skip)
    if refusal is not None:
        raise refusal


def _start_recovery(case: Case) -> list[str]:
    if case.status == CaseStatus.ACKNOWLEDGED:
        case.status = CaseStatus.IN_RECOVERY
        case.recovery_started_at = timezone.now()
        return ["status", "recovery_started_at"]
    return []


@transaction.atomic
def case_step_done(
    *, case: Case, step: str, version: int | None, actor: User, note: str = ""
) -> Case:
    case = case_lock(case=case, version=version)
    row = _step_row(case, step)
    if row.step == RecoveryStep.ACKNOWLEDGE and case.status == CaseStatus.NEW:
        return case_acknowledge(case=case, version=None, actor=actor, note=note)
    _step_preconditions(case, row)
    before = case.status
    fields = _start_recovery(case)
    _step_mark_done(case, step, actor, note.strip())
    _save(case, fields)
    case_event_record(
        case=case,
        kind=CaseEventKind.STEP_DONE,
        actor=actor,
        data={
            "step": step,
            "state": {"from": StepState.PENDING, "to": StepState.DONE},
            "note": note.strip(),
        },
    )
    if before != case.status:
        _status_event(case, before, actor, CaseEventKind.STATUS_CHANGED)
    return case


@transaction.atomic
def case_step_skip(*, case: Case, step: str, reason: str, version: int | None, actor: User) -> Case:
    reason = reason.strip()
    if not reason:
        raise ApplicationError(
            "Skipping a step needs a reason.",
            code="skip_reason_required",
            status=422,
            detail={"reason": ["Required."]},
        )
    case = case_lock(case=case, version=version)
    row = _step_row(case, step)
    _step_preconditions(case, row, skip=True)
    before = case.status
    fields = _start_recovery(case)
    row.state = StepState.SKIPPED
    row.skip_reason = reason
    row.actor = actor
    row.at = timezone.now()
    row.save(update_fields=["state", "skip_reason", "actor", "at", "updated_at"])
    _save(case, fields)
    case_event_record(
        case=case,
        kind=CaseEventKind.STEP_SKIPPED,
        actor=actor,
        data={
            "step": step,
            "state": {"from": StepState.PENDING, "to": StepState.SKIPPED},
            "reason": reason,
        },
    )
    if before != case.status:
        _status_event(case, before, actor, CaseEventKind.STATUS_CHANGED)
    return case


def _can_assign(actor: User, case: Case, assignee: User | None, team: Team | None) -> None:
    profile = staff_profile_of(user=actor)
    if profile.role in (Role.MANAGER, Role.ADMIN):
        return
    target_team_id = team.pk if team else case.team_id
    own_team = (None, profile.team_id)
    if profile.role == Role.SUPERVISOR:
        if target_team_id not in own_team or case.team_id not in own_team:
            raise PermissionDeniedError("Supervisors assign within their own team.")
        return
    # Agents may take a case themselves or hand their own case back to the team queue;
    # they may not take a colleague's case away from them.
    if assignee is None and team is None and case.assignee_id == actor.pk:
        return
    if (
        (assignee is not None and assignee.pk != actor.pk)
        or (assignee is None and case.assignee_id not in (None, actor.pk))
        or target_team_id not in own_team
        or case.team_id not in own_team
    ):
        raise PermissionDeniedError("Agents may only take a case themselves within their team.")


@transaction.atomic
def case_assign(
    *,
    case: Case,
    version: int | None,
    actor: User,
    assignee: User | None,
    team: Team | None = None,
) -> Case:
    """Give the case to a person (and their team) or to a team's queue (assignee None)."""
    case = case_lock(case=case, version=version)
    if assignee is not None:
        profile = staff_profile_of(user=assignee)
        if not assignee.is_active:
            raise ApplicationError("That user is inactive.", code="invalid_assignee", status=422)
        if team is None:
            team = profile.team
        elif profile.team_id not in (None, team.pk) and profile.role not in (
            Role.MANAGER,
            Role.ADMIN,
        ):
            raise ApplicationError(
                f"{assignee.username} is not a member of {team.name}.",
                code="invalid_assignee",
                status=422,
            )
    _can_assign(actor, case, assignee, team)
    before = {
        "assignee": case.assignee.username if case.assignee else None,
        "team": case.team.name if case.team else None,
    }
    case.assignee = assignee
    if team is not None:
        case.team = team
    after = {
        "assignee": assignee.username if assignee else None,
        "team": case.team.name if case.team else None,
    }
    diff = changes(before, after)
    if not diff:
        return case
    _save(case, ["assignee", "team"])
    case_event_record(case=case, kind=CaseEventKind.ASSIGNED, actor=actor, data=diff)
    return case


@transaction.atomic
def case_await_customer(*, case: Case, version: int | None, actor: User | None) -> Case:
    """Pause the resolve clock while we wait for the customer."""
    case = case_lock(case=case, version=version)
    _transition(case, CaseStatus.AWAITING_CUSTOMER)
    before = case.status
    case.status = CaseStatus.AWAITING_CUSTOMER
    case.awaiting_customer_since = timezone.now()
    _save(case, ["status", "awaiting_customer_since"])
    _status_event(case, before, actor, CaseEventKind.STATUS_CHANGED, sla="paused")
    return case


@transaction.atomic
def case_resume(*, case: Case, version: int | None, actor: User | None) -> Case:
    """Back to recovery (from acknowledged, or when the customer answers); the clock runs again."""
    case = case_lock(case=case, version=version)
    _transition(case, CaseStatus.IN_RECOVERY)
    if case.status in DONE_STATUSES:
        raise ApplicationError(
            "Use reopen for a resolved case.", code="illegal_transition", status=409
        )
    before = case.status
    paused = (
        sla_resume(case, now=timezone.now()) if before == CaseStatus.AWAITING_CUSTOMER else None
    )
    case.status = CaseStatus.IN_RECOVERY
    case.recovery_started_at = case.recovery_started_at or timezone.now()
    sla_current_clock(case)
    _save(case, ["status", "recovery_started_at", "awaiting_customer_since", *SLA_FIELDS])
    extra: dict[str, Any] = {}
    if paused is not None:
        extra = {
            "sla": "resumed",
            "paused_seconds": int(paused.total_seconds()),
            "resolve_due_at": case.resolve_due_at.isoformat(),
        }
    _status_event(case, before, actor, CaseEventKind.STATUS_CHANGED, **extra)
    return case


def _steps_pending(case: Case, due: str) -> None:
    missing = list(
        case.steps.filter(required=True, state=StepState.PENDING, due=due)
        .order_by("position")
        .values_list("step", flat=True)
    )
    if missing:
        labels = ", ".join(RecoveryStep(s).label.lower() for s in missing)
        verb = "resolving" if due == StepDue.BEFORE_RESOLVE else "closing"
        raise ApplicationError(
            f"These required steps are still pending: {labels}. Do or skip them before {verb}.",
            code="required_steps_pending",
            status=409,
            detail={"missing_steps": missing},
        )


@transaction.atomic
def case_resolve(
    *,
    case: Case,
    outcome: str,
    version: int | None,
    actor: User,
    explanation: str = "",
    confirm_undetermined: bool = False,
) -> Case:
    """Resolve with an outcome; every required step due before resolving must be done or
    skipped first (steps due before closing, such as the follow-up, may wait). Resolving while
    the fault is still undetermined needs `confirm_undetermined`: a person says so on purpose."""
    explanation = explanation.strip()
    if outcome not in Outcome.values:
        raise ApplicationError(
            f"Unknown outcome {outcome!r}; choose one of {', '.join(Outcome.values)}.",
            code="invalid_outcome",
            status=422,
            detail={"outcome": [f"Choose one of {', '.join(Outcome.values)}."]},
        )
    if outcome == Outcome.NOT_UPHELD and not explanation:
        raise ApplicationError(
            "A complaint that is not upheld needs an explanation for the customer.",
            code="explanation_required",
            status=422,
            detail={"explanation": ["Required when the outcome is not upheld."]},
        )
    case = case_lock(case=case, version=version)
    _transition(case, CaseStatus.RESOLVED)
    _steps_pending(case, StepDue.BEFORE_RESOLVE)
    if case.fault == Fault.UNDETERMINED and not confirm_undetermined:
        raise ApplicationError(
            "Who was at fault is still undetermined. Record the fault first, or confirm that "
            "the case is resolved with the fault undetermined.",
            code="fault_undetermined",
            status=422,
            detail={"confirm_undetermined": ["Confirm to resolve with the fault undetermined."]},
        )
    before = case.status
    now = timezone.now()
    if before == CaseStatus.AWAITING_CUSTOMER:
        sla_resume(case, now=now)
    case.status = CaseStatus.RESOLVED
    case.outcome = outcome
    case.outcome_explanation = explanation
    case.resolved_at = now
    sla_current_clock(case)
    _save(
        case,
        [
            "status",
            "outcome",
            "outcome_explanation",
            "resolved_at",
            "awaiting_customer_since",
            *SLA_FIELDS,
        ],
    )
    _status_event(
        case,
        before,
        actor,
        CaseEventKind.RESOLVED,
        outcome=outcome,
        explanation=explanation,
        on_time=case.resolved_at <= case.resolve_due_at,
        **({"fault_undetermined": True} if case.fault == Fault.UNDETERMINED else {}),
    )
    return case


@transaction.atomic
def case_close(*, case: Case, version: int | None, actor: User) -> Case:
    """Close a resolved case; required steps due before closing (the follow-up) come first."""
    case = case_lock(case=case, version=version)
    _transition(case, CaseStatus.CLOSED)
    _steps_pending(case, StepDue.BEFORE_CLOSE)
    before = case.status
    case.status = CaseStatus.CLOSED
    case.closed_at = timezone.now()
    _save(case, ["status", "closed_at"])
    _status_event(case, before, actor, CaseEventKind.CLOSED)
    return case


@transaction.atomic
def case_reopen(*, case: Case, version: int | None, actor: User, reason: str = "") -> Case:
    """Back into recovery with a fresh resolve clock; the outcome is cleared. A case imported
    already closed has no steps: it gets its playbook's steps, pending."""
    case = case_lock(case=case, version=version)
    if case.merged_into_id is not None:
        raise ApplicationError(
            "This case was merged into another; work on that one instead.",
            code="case_merged",
            status=409,
        )
    if case.status not in DONE_STATUSES:
        raise ApplicationError(
            "Only a resolved or closed case can be reopened.",
            code="illegal_transition",
            status=409,
            detail={"from": case.status, "to": CaseStatus.IN_RECOVERY},
        )
    before = case.status
    previous_outcome = case.outcome
    now = timezone.now()
    case.status = CaseStatus.IN_RECOVERY
    case.reopened_at = now
    case.resolved_at = None
    case.closed_at = None
    case.outcome = ""
    case.outcome_explanation = ""
    case.resolve_clock_started_at = now
    case.sla_paused_seconds = 0
    sla_compute(case)
    if not CaseStep.objects.filter(case=case).exists():
        # Imported already closed: its recovery was never tracked here; it starts now.
        case_steps_create(case=case)
    _save(
        case,
        [
            "status",
            "reopened_at",
            "resolved_at",
            "closed_at",
            "outcome",
            "outcome_explanation",
            *SLA_FIELDS,
        ],
    )
    _status_event(
        case,
        before,
        actor,
        CaseEventKind.REOPENED,
        reason=reason.strip(),
        previous_outcome=previous_outcome,
    )
    return case


EDITABLE_FIELDS = (
    "title",
    "description",
    "expected",
    "delivered",
    "staff_account",
    "fault",
    "severity",
    "category",
    "service",
    "root_cause",
)


@transaction.atomic
def case_update(*, case: Case, version: int | None, actor: User | None, **fields: Any) -> Case:
    """Edit the account of what happened. A category change on an open case brings in that
    category's playbook; severity and category changes re-time the SLA."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ApplicationError(
            f"Cannot change {', '.join(sorted(unknown))}.", code="invalid_field", status=422
        )
    if "fault" in fields and fields["fault"] not in Fault.values:
        raise ApplicationError(
            f"Unknown fault attribution {fields['fault']!r}.",
            code="invalid_case",
            status=422,
            detail={"fault": ["Unknown value."]},
        )
    if "severity" in fields and fields["severity"] not in (1, 2, 3, 4):
        raise ApplicationError(
            "Severity must be 1, 2, 3 or 4.",
            code="invalid_case",
            status=422,
            detail={"severity": ["Must be 1–4."]},
        )
    if "title" in fields and not str(fields["title"]).strip():
        raise ApplicationError(
            "A case needs a title.",
            code="invalid_case",
            status=422,
            detail={"title": ["Required."]},
        )
    if "title" in fields and len(str(fields["title"]).strip()) > 200:
        raise ApplicationError(
            "A title has at most 200 characters.",
            code="invalid_case",
            status=422,
            detail={"title": ["At most 200 characters."]},
        )
    if (
        "category" in fields
        and fields["category"] is not None
        and not isinstance(fields["category"], Category)
    ):
        raise ApplicationError("Unknown category.", code="invalid_case", status=422)
    if (
        "service" in fields
        and fields["service"] is not None
        and not isinstance(fields["service"], Service)
    ):
        raise ApplicationError("Unknown service.", code="invalid_case", status=422)
    if (
        "root_cause" in fields
        and fields["root_cause"] is not None
        and not isinstance(fields["root_cause"], RootCause)
    ):
        raise ApplicationError("Unknown root cause.", code="invalid_case", status=422)
    case = case_lock(case=case, version=version)
    before = {name: getattr(case, name) for name in fields}
    for name, value in fields.items():
        setattr(case, name, value.strip() if isinstance(value, str) else value)
    after = {name: getattr(case, name) for name in fields}
    diff = changes(before, after)
    if not diff:
        return case
    updated = list(diff)
    if "category" in diff and case.is_open:
        playbook = playbook_for_category(category=case.category, customer=case.customer)
        if playbook != case.playbook:
            diff["playbook"] = {
                "from": case.playbook.name if case.playbook else None,
                "to": playbook.name if playbook else None,
            }
            case.playbook = playbook
            updated.append("playbook")
            _steps_follow_playbook(case)
    if ("severity" in diff or "category" in diff) and case.is_open:
        sla_compute(case)
        updated += SLA_FIELDS
    _save(case, updated)
    case_event_record(case=case, kind=CaseEventKind.UPDATED, actor=actor, data=diff)
    hooks.case_changed.emit(
        hooks.CaseChanged(
            case_id=case.pk,
            fields=tuple(sorted(diff)),
            actor_id=actor.pk if actor is not None else None,
        )
    )
    return case


def _steps_follow_playbook(case: Case) -> None:
    """After a category change the new playbook's steps apply: missing ones are added as
    pending, pending ones take its required flag (off if it lacks them). Done and skipped
    steps stay as the record of what was done."""
    if case.playbook is None:
        return
    wanted = {s.step: s for s in case.playbook.steps.all()}
    rows = {row.step: row for row in case.steps.all()}
    for row in rows.values():
        if row.state != StepState.PENDING:
            continue
        required = wanted[row.step].required if row.step in wanted else False
        due = wanted[row.step].due if row.step in wanted else row.due
        if (row.required, row.due) != (required, due):
            row.required = required
            row.due = due
            row.save(update_fields=["required", "due", "updated_at"])
    CaseStep.objects.bulk_create(
        [
            CaseStep(
                case=case,
                step=step,
                required=spec.required,
                due=spec.due,
                position=spec.position,
            )
            for step, spec in wanted.items()
            if step not in rows
        ]
    )

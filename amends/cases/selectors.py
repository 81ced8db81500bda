from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import User
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from amends.accounts.choices import Role
from amends.accounts.selectors import staff_profile_of
from amends.cases.choices import DONE_STATUSES, CaseStatus, SlaState, StepState
from amends.cases.models import Case, CaseEvent, CaseStep, Message, Tag, case_pk_from_ref
from amends.core.exceptions import ApplicationError
from amends.policies.choices import RecoveryStep, StepDue


def case_visible_to(*, user: User) -> QuerySet[Case]:
    """Managers and admins see every case; others their team's, their own and unrouted ones."""
    profile = staff_profile_of(user=user)
    qs = Case.objects.all()
    if profile.sees_all_teams:
        return qs
    condition = Q(assignee=user) | Q(team__isnull=True)
    if profile.team_id is not None:
        condition |= Q(team_id=profile.team_id)
    return qs.filter(condition)


def case_viewers(*, case: Case, people: QuerySet[User] | None = None) -> QuerySet[User]:
    """The staff who can see `case`, by the rule of `case_visible_to` read the other way: on a
    routed case its team, its assignee, managers and admins; on an unrouted one, everyone.
    `people` narrows the search (default: every user with a staff role)."""
    qs = people if people is not None else User.objects.filter(staff__isnull=False)
    if case.team_id is None:
        return qs
    return qs.filter(
        Q(staff__team_id=case.team_id)
        | Q(pk=case.assignee_id)
        | Q(staff__role__in=[Role.MANAGER, Role.ADMIN])
    )


def case_get_for_user(*, ref: str, user: User) -> Case:
    """The case by reference if this user may see it; missing and forbidden look the same."""
    pk = case_pk_from_ref(ref)
    if pk is None:
        raise Case.DoesNotExist
    return (
        case_visible_to(user=user)
        .select_related("customer", "category__parent", "service", "team", "assignee", "playbook")
        .get(pk=pk)
    )


def case_get(*, case_id: int) -> Case:
    """A case by id with its customer, for services and hook subscribers (no visibility check:
    callers act for the system, not for a person)."""
    return Case.objects.select_related("customer").get(pk=case_id)


def case_steps(*, case: Case) -> list[CaseStep]:
    """The steps in order, each with `can_done`, `can_skip` and `acknowledge_first` set for
    the page by `case_step_refusal` (the rule the step services apply)."""
    steps = list(case.steps.select_related("actor").order_by("position", "id"))
    for step in steps:
        refusal = case_step_refusal(case=case, step=step)
        step.can_done = refusal is None
        step.can_skip = step.can_done and case_step_refusal(case=case, step=step, skip=True) is None
        step.acknowledge_first = refusal is not None and refusal.code == "not_acknowledged"
    return steps


def case_step_refusal(*, case: Case, step: CaseStep, skip: bool = False) -> ApplicationError | None:
    """Why `step` cannot be marked done (or, with `skip`, skipped) now; None when it can.
    The step services raise this; the case page shows the forms only where it is None."""
    if skip and step.step == RecoveryStep.ACKNOWLEDGE:
        return ApplicationError(
            "The customer must always be acknowledged; this step cannot be skipped.",
            code="step_not_skippable",
            status=409,
        )
    # After the fix, the steps due before closing (the follow-up) are still to do.
    after_fix = case.status == CaseStatus.RESOLVED and step.due == StepDue.BEFORE_CLOSE
    if case.status in DONE_STATUSES and not after_fix:
        return ApplicationError(
            "Steps cannot change on a resolved or closed case; reopen it first.",
            code="case_not_open",
            status=409,
        )
    if case.status == CaseStatus.NEW and step.step != RecoveryStep.ACKNOWLEDGE:
        return ApplicationError(
            "Acknowledge the customer before other recovery steps.",
            code="not_acknowledged",
            status=409,
        )
    if step.state != StepState.PENDING:
        return ApplicationError(
            f"The {step.get_step_display().lower()} step is already {step.state}.",
            code="step_not_pending",
            status=409,
        )
    return None


def case_timeline(*, case: Case, limit: int = 500) -> list[CaseEvent]:
    """The latest `limit` events, oldest first (a long case keeps its newest events in view)."""
    events = list(case.events.select_related("actor").order_by("-created_at", "-id")[:limit])
    events.reverse()
    return events


def case_message_list(*, case: Case, limit: int = 500) -> list[Message]:
    """The latest `limit` messages, oldest first."""
    messages = list(case.messages.select_related("author").order_by("-created_at", "-id")[:limit])
    messages.reverse()
    return messages


@dataclass
class CaseFilters:
    status: str | None = None
    team_id: int | None = None
    unrouted: bool = False
    assignee_id: int | None = None
    unassigned: bool = False
    category_id: int | None = None
    severity: int | None = None
    customer_id: int | None = None
    sla_state: str | None = None
    open_only: bool = False
    # Cases carrying this tag (cases.services.tags).
    tag: str | None = None
    # How the customer feels (written on the case by insight): each narrows to flagged cases.
    upset: bool = False
    churn_intent: bool = False
    repeat_failure: bool = False


# SLA states of finished cases (the others are states of a running clock).
FINISHED_SLA = (SlaState.MET, SlaState.MISSED, SlaState.NOT_APPLICABLE)


def _apply_sla_state(qs: QuerySet[Case], state: str, now: datetime) -> QuerySet[Case]:
    live = qs.filter(sla_due_at__isnull=False).exclude(status=CaseStatus.AWAITING_CUSTOMER)
    if state == SlaState.BREACHED:
        return live.filter(sla_due_at__lte=now)
    if state == SlaState.AT_RISK:
        return live.filter(sla_at_risk_at__lte=now, sla_due_at__gt=now)
    if state == SlaState.ON_TRACK:
        return live.filter(sla_at_risk_at__gt=now)
    if state == SlaState.PAUSED:
        return qs.filter(status=CaseStatus.AWAITING_CUSTOMER)
    if state == SlaState.NOT_APPLICABLE:
        return qs.filter(merged_into__isnull=False)
    # Finished cases, as Case.sla_state_at says: met when resolved by the resolve due time
    # (a duplicate merged into another case is neither).
    done = qs.filter(status__in=DONE_STATUSES, merged_into__isnull=True)
    if state == SlaState.MET:
        return done.filter(resolved_at__isnull=False, resolved_at__lte=F("resolve_due_at"))
    if state == SlaState.MISSED:
        return done.exclude(resolved_at__isnull=False, resolved_at__lte=F("resolve_due_at"))
    raise ApplicationError(
        f"Unknown SLA state {state!r}; use {', '.join(SlaState.values)}.",
        code="invalid_filter",
        status=422,
    )


def case_list(*, user: User, filters: CaseFilters | None = None) -> QuerySet[Case]:
    """Cases this user may see, filtered. Open cases sort by the nearest due time (each filter
    has an index on (field, sla_due_at)); a list of closed cases sorts newest first."""
    f = filters or CaseFilters()
    qs = case_visible_to(user=user)
    if f.status:
        if f.status not in CaseStatus.values:
            raise ApplicationError(
                f"Unknown status {f.status!r}.", code="invalid_filter", status=422
            )
        qs = qs.filter(status=f.status)
    if f.team_id is not None:
        qs = qs.filter(team_id=f.team_id)
    if f.unrouted:
        qs = qs.filter(team__isnull=True)
    if f.assignee_id is not None:
        qs = qs.filter(assignee_id=f.assignee_id)
    if f.unassigned:
        qs = qs.filter(assignee__isnull=True)
    if f.upset:
        qs = qs.filter(upset=True)
    if f.churn_intent:
        qs = qs.filter(churn_intent=True)
    if f.repeat_failure:
        qs = qs.filter(repeat_failure=True)
    if f.tag:
        qs = qs.filter(tags__name=f.tag.strip().lower())
    if f.category_id is not None:
        qs = qs.filter(Q(category_id=f.category_id) | Q(category__parent_id=f.category_id))
    if f.severity is not None:
        qs = qs.filter(severity=f.severity)
    if f.customer_id is not None:
        qs = qs.filter(customer_id=f.customer_id)
    if f.sla_state:
        qs = _apply_sla_state(qs, f.sla_state, timezone.now())
    done = f.status in (CaseStatus.RESOLVED, CaseStatus.CLOSED) or f.sla_state in FINISHED_SLA
    if f.open_only or (f.status and not done) or (f.sla_state and not done):
        qs = qs.filter(sla_due_at__isnull=False).order_by("sla_due_at", "id")
    elif f.customer_id is not None or done:
        qs = qs.order_by("-created_at", "-id")
    else:
        qs = qs.order_by("-created_at", "-id")
    return qs.select_related("customer", "team", "assignee", "category__parent")


def case_queue(
    *,
    user: User,
    team_id: int | None = None,
    mine: bool = False,
    unrouted: bool = False,
    filters: CaseFilters | None = None,
) -> QuerySet[Case]:
    """Open cases, nearest SLA due time first. `unrouted`: cases no team owns yet (API or email
    intake without a team), which every staff member may see and pick up."""
    f = filters or CaseFilters()
    f.open_only = True
    if unrouted:
        f.unrouted = True
    if mine:
        f.assignee_id = user.pk
    if team_id is not None:
        f.team_id = team_id
    return case_list(user=user, filters=f)


def customer_case_list(*, user: User, customer_id: int) -> QuerySet[Case]:
    return case_list(user=user, filters=CaseFilters(customer_id=customer_id))


def tag_names(*, limit: int = 500) -> list[str]:
    """The tags in use, by name, for the queue filter's suggestions (tags are shared by all)."""
    return list(Tag.objects.order_by("name").values_list("name", flat=True)[:limit])

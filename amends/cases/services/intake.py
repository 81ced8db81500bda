from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from amends.accounts.choices import Role
from amends.accounts.models import Team
from amends.accounts.selectors import staff_profile_of
from amends.cases.choices import CaseEventKind, CaseStatus, Channel, Fault, MessageDirection
from amends.cases.models import Case, CaseStep, Message
from amends.cases.services.events import case_event_record
from amends.cases.services.routing import route_match, routing_rules_load
from amends.cases.services.sla import sla_compute, sla_policy_of
from amends.core import hooks
from amends.core.exceptions import ApplicationError, PermissionDeniedError
from amends.core.rows import instance_insert, instances_insert
from amends.customers.models import Customer
from amends.customers.services import customer_create, customer_get_or_create_by_ref
from amends.policies.choices import RecoveryStep, StepDue
from amends.policies.selectors import playbook_for_category, playbook_get
from amends.taxonomy.models import Category, Service

# Used when no playbook is configured at all: the practised recovery, in order (step,
# required, due). The follow-up comes after the fix, so it is due before closing.
FALLBACK_STEPS: list[tuple[str, bool, str]] = [
    (RecoveryStep.ACKNOWLEDGE, True, StepDue.BEFORE_RESOLVE),
    (RecoveryStep.APOLOGISE, True, StepDue.BEFORE_RESOLVE),
    (RecoveryStep.EMPATHISE, False, StepDue.BEFORE_RESOLVE),
    (RecoveryStep.RECTIFY, True, StepDue.BEFORE_RESOLVE),
    (RecoveryStep.COMPENSATE, False, StepDue.BEFORE_RESOLVE),
    (RecoveryStep.FOLLOW_UP, True, StepDue.BEFORE_CLOSE),
    (RecoveryStep.PREVENT, False, StepDue.BEFORE_RESOLVE),
]


def _invalid(message: str, field: str) -> ApplicationError:
    return ApplicationError(message, code="invalid_case", status=422, detail={field: [message]})


@transaction.atomic(savepoint=False)
def case_steps_create(*, case: Case) -> None:
    """The case's recovery steps from its playbook (the fallback steps without one), pending.
    In the caller's transaction without a savepoint of its own: its one INSERT is all or
    nothing anyway, and on PostgreSQL a savepoint is two more round trips on every intake."""
    playbook = case.playbook
    if playbook is not None:
        steps = [(s.step, s.required, s.due) for s in playbook.steps.all()]
    else:
        steps = FALLBACK_STEPS
    # One fixed statement: every case opens with its steps, and the ORM's compiling of the
    # bulk INSERT cost more than running it.
    instances_insert(
        [
            CaseStep(case=case, step=step, required=required, due=due, position=index)
            for index, (step, required, due) in enumerate(steps)
        ]
    )


def case_create(
    *,
    customer: Customer,
    title: str,
    actor: User | None,
    description: str = "",
    expected: str = "",
    delivered: str = "",
    staff_account: str = "",
    channel: str = Channel.PHONE,
    severity: int = 3,
    fault: str = Fault.UNDETERMINED,
    category: Category | None = None,
    service: Service | None = None,
    team: Team | None = None,
    assignee: User | None = None,
    account_as_message: bool = False,
) -> Case:
    """Open a case with its playbook's steps and SLA clocks started now. The routing rules
    pick the team (and maybe a playbook and assignee); a team or assignee given by the caller
    wins over the rule's. With `account_as_message` (intake from a person: the API, the new-case
    form, the public report form) the customer's account is also the first inbound message."""
    if channel not in Channel.values:
        raise _invalid(f"Unknown channel {channel!r}.", "channel")
    if fault not in Fault.values:
        raise _invalid(f"Unknown fault attribution {fault!r}.", "fault")
    if severity not in (1, 2, 3, 4):
        raise _invalid("Severity must be 1, 2, 3 or 4.", "severity")
    if not title.strip():
        raise _invalid("A case needs a title.", "title")
    if assignee is not None:
        profile = staff_profile_of(user=assignee)
        if not assignee.is_active:  # the same rule as case_assign
            raise ApplicationError("That user is inactive.", code="invalid_assignee", status=422)
        if team is None:
            team = profile.team
        elif profile.team_id not in (None, team.pk) and not profile.sees_all_teams:
            raise _invalid(f"{assignee.username} is not a member of {team.name}.", "assignee")
        if actor is not None and actor.pk != assignee.pk:
            # The same rule as case_assign: only supervisors (in their team) and managers
            # hand a case to someone else.
            actor_profile = staff_profile_of(user=actor)
            allowed = actor_profile.sees_all_teams or (
                actor_profile.role == Role.SUPERVISOR
                and profile.team_id is not None
                and profile.team_id == actor_profile.team_id
            )
            if not allowed:
                raise PermissionDeniedError(
                    "Only a supervisor (within their team) or a manager can give a case to "
                    "someone else."
                )
    now = timezone.now()
    advice = _intake_advice(
        customer=customer,
        title=title,
        description=description,
        channel=channel,
        category=category,
        service=service,
        severity=severity,
        now=now,
    )
    if category is None and advice.category is not None:
        category = advice.category
    severity = min(severity, advice.severity or severity)
    route = route_match(
        routing_rules_load(),
        category=category,
        service_id=service.pk if service is not None else None,
        channel=channel,
        customer_tier=customer.tier,
    )
    routed = route is not None and team is None and assignee is None
    if route is not None and routed:
        team = route.team
        assignee = route.assignee
    playbook = None
    if route is not None and route.playbook_id is not None:
        playbook = playbook_get(playbook_id=route.playbook_id)
    if playbook is None:
        playbook = playbook_for_category(category=category, customer=customer)
    case = Case(
        customer=customer,
        title=title.strip()[:200],
        description=description.strip(),
        expected=expected.strip(),
        delivered=delivered.strip(),
        staff_account=staff_account.strip(),
        channel=channel,
        severity=severity,
        fault=fault,
        category=category,
        service=service,
        playbook=playbook,
        team=team,
        assignee=assignee,
        created_by=actor,
        status=CaseStatus.NEW,
        created_at=now,
        resolve_clock_started_at=now,
        attention=advice.attention,
        upset=advice.upset,
        churn_intent=advice.churn_intent,
        repeat_failure=advice.repeat_failure,
    )
    sla_compute(case, policy=sla_policy_of(case))
    try:
        case.full_clean(
            exclude=[
                "customer",
                "category",
                "service",
                "playbook",
                "team",
                "assignee",
                "created_by",
            ],
            # The database enforces the constraints on INSERT; checking each one here first
            # costs a query per constraint on every intake.
            validate_unique=False,
            validate_constraints=False,
        )
    except ValidationError as exc:
        raise ApplicationError(
            "The case is not valid.", code="invalid_case", status=422, detail=exc.message_dict
        ) from exc
    instance_insert(case)  # as case.save(): one fixed statement instead of the ORM's compiling
    case_steps_create(case=case)
    if case.description and account_as_message:
        # No message_added hook: case_opened below already hands the account to its readers.
        Message.objects.create(
            case=case,
            direction=MessageDirection.INBOUND,
            body=case.description,
            author=None,
            created_at=now,
        )
    data: dict[str, Any] = {
        "ref": case.ref,
        "channel": channel,
        "severity": severity,
        "playbook": playbook.name if playbook else None,
        "ack_due_at": case.ack_due_at.isoformat(),
        "resolve_due_at": case.resolve_due_at.isoformat(),
    }
    if team is not None:
        data["team"] = team.name
    if assignee is not None:
        data["assignee"] = assignee.username
    if advice.notes:
        data["advised"] = advice.notes
    if route is not None:
        data["routing_rule"] = route.rule_name
        if not routed:
            data["routing_overridden"] = True
    case_event_record(case=case, kind=CaseEventKind.CREATED, actor=actor, data=data)
    # Subscribers run in this transaction: commitments applies its escalation rules (VIP,
    # special handling, repeat complaints) here.
    hooks.case_opened.emit(
        hooks.CaseOpened(
            case_id=case.pk,
            customer_id=case.customer_id,
            channel=channel,
            actor_id=actor.pk if actor is not None else None,
        )
    )
    return case


@dataclass
class _Advice:
    """The advice of the floors above on a case being opened, folded into one."""

    category: Category | None = None
    severity: int | None = None
    attention: float = 0.0
    upset: bool = False
    churn_intent: bool = False
    repeat_failure: bool = False
    notes: list[str] = field(default_factory=list)


def _intake_advice(
    *,
    customer: Customer,
    title: str,
    description: str,
    channel: str,
    category: Category | None,
    service: Service | None,
    severity: int,
    now: datetime,
) -> _Advice:
    """Ask the floors above (`case_intake_review`) before the first save: a suggested category
    (used only when none was given), a more urgent severity, how upset the customer is."""
    review = hooks.CaseIntakeReview(
        customer_id=customer.pk,
        title=title.strip()[:200],
        description=description.strip(),
        channel=channel,
        category_id=category.pk if category is not None else None,
        service_id=service.pk if service is not None else None,
        severity=severity,
        now=now,
    )
    hooks.case_intake_review.emit(review)
    out = _Advice()
    for advice in review.advice:
        if advice.category_id is not None and category is None and out.category is None:
            out.category = Category.objects.filter(pk=advice.category_id, active=True).first()
        if advice.severity in (1, 2, 3, 4):
            out.severity = min(out.severity or 4, advice.severity)
        out.attention = max(out.attention, advice.attention or 0.0)
        out.upset = out.upset or advice.upset
        out.churn_intent = out.churn_intent or advice.churn_intent
        out.repeat_failure = out.repeat_failure or advice.repeat_failure
        if advice.note:
            out.notes.append(advice.note[:300])
    return out


@dataclass(frozen=True)
class NewCustomer:
    """A complainant not picked from the list: matched by `external_ref`, created if new."""

    name: str
    external_ref: str = ""
    # The rest of customers.services.customer_create's fields: email, phone, tier, …
    details: Mapping[str, Any] = field(default_factory=dict)


@transaction.atomic
def case_intake(
    *, customer: Customer | None, new_customer: NewCustomer | None, actor: User, **case: Any
) -> Case:
    """The one intake path of the API and the new-case form: the customer picked, or found by
    their reference in our systems (a returning customer), or created; then the case. One
    transaction: no orphan customer if the case is refused."""
    if customer is None:
        if new_customer is None:
            raise _invalid("Pick a customer or give their details.", "customer")
        details = {**new_customer.details, "name": new_customer.name}
        ref = new_customer.external_ref.strip()
        if ref:
            customer = customer_get_or_create_by_ref(external_ref=ref, defaults=details)
        else:
            customer = customer_create(actor=actor, **details)
    return case_create(customer=customer, actor=actor, account_as_message=True, **case)

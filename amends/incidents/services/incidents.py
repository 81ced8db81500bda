"""Declaring, updating and closing incidents; closing groups them into problems."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from amends.accounts.selectors import staff_profile_of
from amends.cases.services.intake import case_create
from amends.commitments.choices import CommitmentKind
from amends.commitments.services.commitments import commitment_create
from amends.core import hooks
from amends.core.exceptions import ApplicationError
from amends.customers.services import customer_get_or_create_by_ref
from amends.incidents.choices import (
    INCIDENT_CHANNEL,
    IncidentEventKind,
    IncidentStatus,
    ProblemStatus,
)
from amends.incidents.models import Incident, IncidentKind, IncidentUpdate, Problem
from amends.incidents.selectors import policy_active_for_kind
from amends.incidents.services.events import incident_event_record
from amends.incidents.services.policies import require_manager
from amends.taxonomy.models import RootCause, Service

MAX_MAGNITUDE = Decimal("9999999999.99")
# The customer record that stands for our own operations: prevention actions are promises
# made to it, so they live in the commitment ledger with an owner and a due date.
OPERATIONS_REF = "amends:operations"

# Moves an incident may make before it is closed (closing has its own service).
TRANSITIONS: dict[str, set[str]] = {
    IncidentStatus.INVESTIGATING: {
        IncidentStatus.IDENTIFIED,
        IncidentStatus.MONITORING,
        IncidentStatus.RESOLVED,
    },
    IncidentStatus.IDENTIFIED: {IncidentStatus.MONITORING, IncidentStatus.RESOLVED},
    IncidentStatus.MONITORING: {IncidentStatus.IDENTIFIED, IncidentStatus.RESOLVED},
    IncidentStatus.RESOLVED: {IncidentStatus.MONITORING},
    IncidentStatus.CLOSED: set(),
}


def _invalid(message: str, field: str, code: str = "invalid_incident") -> ApplicationError:
    return ApplicationError(message, code=code, status=422, detail={field: [message]})


def _text(value: str, field: str, *, limit: int, required: bool = False) -> str:
    if "\x00" in value:
        raise _invalid("Text cannot contain NUL characters.", field)
    value = value.strip()
    if required and not value:
        raise _invalid(f"{field.replace('_', ' ').capitalize()} is required.", field)
    if len(value) > limit:
        raise _invalid(f"At most {limit} characters.", field)
    return value


def magnitude_clean(value: Decimal | str | float | int, field: str = "magnitude") -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise _invalid("The magnitude must be a number.", field) from None
    if not number.is_finite() or number < 0 or number > MAX_MAGNITUDE:
        raise _invalid("The magnitude must be a number from 0 to 9999999999.99.", field)
    return number.quantize(Decimal("0.01"))


def _when_clean(value: datetime, field: str) -> datetime:
    if timezone.is_naive(value):
        raise _invalid("Give the time with a time zone.", field)
    now = timezone.now()
    if value.year < 2000 or value > now + timedelta(days=366):
        raise _invalid("The time must be between 2000 and a year from now.", field)
    return value


def incident_kind_clean(code: str) -> IncidentKind:
    kind = IncidentKind.objects.filter(code=code, active=True).first()
    if kind is None:
        known = ", ".join(IncidentKind.objects.filter(active=True).values_list("code", flat=True))
        raise _invalid(f"Unknown incident kind {code!r}; use one of {known}.", "kind")
    return kind


@transaction.atomic
def incident_create(
    *,
    title: str,
    kind: str,
    magnitude: Decimal | str | float | int,
    started_at: datetime,
    severity: int,
    actor: User,
    ended_at: datetime | None = None,
    service: Service | None = None,
    public_description: str = "",
    internal_notes: str = "",
) -> Incident:
    """Declare an incident; the kind's active recovery policy is pinned to it."""
    require_manager(actor)
    if severity not in (1, 2, 3, 4):
        raise _invalid("Severity must be 1, 2, 3 or 4.", "severity")
    started_at = _when_clean(started_at, "started_at")
    if ended_at is not None:
        ended_at = _when_clean(ended_at, "ended_at")
        if ended_at < started_at:
            raise _invalid("The end is before the start.", "ended_at")
    incident_kind = incident_kind_clean(kind)
    incident = Incident.objects.create(
        title=_text(title, "title", limit=200, required=True),
        kind=incident_kind,
        magnitude=magnitude_clean(magnitude),
        started_at=started_at,
        ended_at=ended_at,
        severity=severity,
        service=service,
        public_description=_text(public_description, "public_description", limit=10_000),
        internal_notes=_text(internal_notes, "internal_notes", limit=10_000),
        policy=policy_active_for_kind(kind=incident_kind),
        created_by=actor,
    )
    incident_event_record(
        incident=incident,
        kind=IncidentEventKind.DECLARED,
        actor=actor,
        data={
            "title": incident.title,
            "kind": incident_kind.code,
            "magnitude": str(incident.magnitude),
            "severity": severity,
            "policy": str(incident.policy) if incident.policy else None,
        },
    )
    return incident


def _locked(incident: Incident) -> Incident:
    return Incident.objects.select_for_update().get(pk=incident.pk)


def incident_require_open(incident: Incident) -> None:
    if incident.status == IncidentStatus.CLOSED:
        raise ApplicationError(
            "This incident is closed; nothing more can be added or sent.",
            code="incident_closed",
            status=409,
        )


@transaction.atomic
def incident_status_set(*, incident: Incident, status: str, actor: User) -> Incident:
    require_manager(actor)
    incident = _locked(incident)
    incident_require_open(incident)
    if status == IncidentStatus.CLOSED:
        raise ApplicationError(
            "Close an incident with its root cause and prevention action.",
            code="close_needs_root_cause",
            status=409,
        )
    if status not in TRANSITIONS.get(incident.status, set()):
        raise ApplicationError(
            f"An incident cannot go from {incident.status} to {status}.",
            code="illegal_transition",
            status=409,
        )
    before = incident.status
    incident.status = status
    if status == IncidentStatus.RESOLVED and incident.ended_at is None:
        incident.ended_at = timezone.now()
    incident.save(update_fields=["status", "ended_at", "updated_at"])
    incident_event_record(
        incident=incident,
        kind=IncidentEventKind.STATUS,
        actor=actor,
        data={"status": {"from": before, "to": status}},
    )
    return incident


@transaction.atomic
def incident_update_post(
    *, incident: Incident, body: str, public: bool, actor: User
) -> IncidentUpdate:
    """A dated note: public ones go into the next notification round's {latest_update}."""
    require_manager(actor)
    incident = _locked(incident)
    incident_require_open(incident)
    update = IncidentUpdate.objects.create(
        incident=incident,
        body=_text(body, "body", limit=5_000, required=True),
        public=public,
        author=actor,
    )
    incident_event_record(
        incident=incident,
        kind=IncidentEventKind.UPDATED,
        actor=actor,
        data={"update": update.pk, "public": public},
    )
    return update


def _problem_for(root_cause: RootCause, incident: Incident) -> Problem:
    problem = (
        Problem.objects.select_for_update()
        .filter(root_cause=root_cause)
        .exclude(status=ProblemStatus.FIXED)
        .first()
    )
    if problem is None:
        problem = Problem.objects.create(
            title=f"{root_cause.name}",
            root_cause=root_cause,
            description=f"Opened by {incident.ref}: {incident.title}",
        )
    return problem


@transaction.atomic
def incident_close(
    *,
    incident: Incident,
    root_cause: RootCause,
    prevention: str,
    prevention_owner: User,
    prevention_due_at: datetime,
    actor: User,
) -> Incident:
    """Close with a root cause and a prevention action owed by operations (a commitment).

    Incidents with the same root cause gather under one unfixed problem.
    """
    require_manager(actor)
    incident = _locked(incident)
    incident_require_open(incident)
    prevention = _text(prevention, "prevention", limit=2_000, required=True)
    if not root_cause.active:
        raise _invalid(f"Root cause {root_cause.name!r} is retired.", "root_cause")
    if prevention_due_at <= timezone.now():
        raise _invalid("The prevention action's due date must be in the future.", "due_at")
    owner_profile = staff_profile_of(user=prevention_owner)
    operations = customer_get_or_create_by_ref(
        external_ref=OPERATIONS_REF, defaults={"name": "Operations (internal)"}
    )
    case = case_create(
        customer=operations,
        title=f"Prevent recurrence: {incident.title}"[:200],
        description=f"{incident.ref} closed with root cause {root_cause.name}.",
        actor=actor,
        channel=INCIDENT_CHANNEL,
        severity=incident.severity,
        service=incident.service,
        team=owner_profile.team,
        assignee=prevention_owner if owner_profile.team_id else None,
    )
    commitment = commitment_create(
        case=case,
        kind=CommitmentKind.FIX,
        description=prevention,
        owner=prevention_owner,
        due_at=prevention_due_at,
        actor=actor,
        customer_visible=False,
    )
    problem = _problem_for(root_cause, incident)
    before = incident.status
    now = timezone.now()
    incident.status = IncidentStatus.CLOSED
    incident.root_cause = root_cause
    incident.problem = problem
    incident.closed_at = now
    incident.ended_at = incident.ended_at or now
    incident.prevention_case_id = case.pk
    incident.prevention_commitment_id = commitment.pk
    incident.save()
    data: dict[str, Any] = {
        "status": {"from": before, "to": IncidentStatus.CLOSED},
        "root_cause": root_cause.name,
        "problem": problem.pk,
        "prevention": prevention,
        "owner": prevention_owner.username,
        "due_at": prevention_due_at.isoformat(),
        "case": case.ref,
    }
    incident_event_record(incident=incident, kind=IncidentEventKind.CLOSED, actor=actor, data=data)
    hooks.incident_closed.emit(
        hooks.IncidentClosed(incident_id=incident.pk, root_cause_id=root_cause.pk)
    )
    return incident

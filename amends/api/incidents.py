"""Incidents: declare, add affected customers in batches, notify, follow the funnel, close;
recovery policies (versioned) with a dry run."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from ninja import Query, Router, Schema, Status
from pydantic import BaseModel, ConfigDict, Field

from amends.accounts.selectors import staff_get_by_username
from amends.api.schemas import ERRORS, Id, InSchema, PageOut
from amends.core.pagination import paginate
from amends.core.types import AuthedRequest
from amends.incidents.models import Incident, RecoveryPolicy
from amends.incidents.selectors import (
    funnel_of,
    impact_list_for_incident,
    incident_get_for_user,
    incident_list,
    incident_update_list,
    policy_get,
    policy_list,
    round_current,
    round_list,
)
from amends.incidents.services.impacts import (
    MAX_BATCH,
    AffectedRow,
    impacts_add,
    incident_dry_run,
    incident_link_cases,
)
from amends.incidents.services.incidents import (
    incident_close,
    incident_create,
    incident_kind_clean,
    incident_status_set,
    incident_update_post,
)
from amends.incidents.services.notify import (
    round_preview,
    round_progress,
    round_progress_of,
    round_start,
)
from amends.incidents.services.policies import policy_create, policy_deactivate
from amends.taxonomy.models import RootCause, Service

router = Router(tags=["incidents"])
MAX_ID = 2**63 - 1
Scalar = str | int | float | bool | None


# ---- schemas ------------------------------------------------------------------------------


class IncidentCreateIn(InSchema):
    title: str = Field(min_length=1, max_length=200)
    kind: str = Field(min_length=1, max_length=40, description="e.g. flight_delay")
    magnitude: Decimal = Field(ge=0, le=Decimal("9999999999.99"))
    started_at: datetime
    severity: int = Field(ge=1, le=4)
    ended_at: datetime | None = None
    service_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    public_description: str = Field(default="", max_length=10_000)
    internal_notes: str = Field(default="", max_length=10_000)


class FunnelOut(Schema):
    affected: int
    notified: int
    opened: int
    chose: int
    complained: int
    surveyed: int
    over_budget: int
    cost: Decimal
    reserved: Decimal
    budget_cap: Decimal | None
    currency: str


class RoundOut(Schema):
    round: int
    kind: str
    status: str
    total: int
    done: int
    sent: int
    percent: int


class IncidentOut(Schema):
    id: int
    ref: str
    title: str
    kind: str
    status: str
    severity: int
    magnitude: Decimal
    started_at: datetime
    ended_at: datetime | None
    public_description: str
    root_cause: str | None
    problem_id: int | None
    policy_id: int | None
    policy_version: int | None
    counters: FunnelOut | None = None
    rounds: list[RoundOut] = []
    updates: list[dict[str, Any]] = []


class IncidentCreatedOut(Schema):
    id: int
    ref: str
    policy_id: int | None


class AffectedIn(BaseModel):
    # A plain pydantic model: ninja's Schema drops extra fields, which are policy inputs here.
    model_config = ConfigDict(extra="allow")

    external_ref: str = Field(min_length=1, max_length=100)
    name: str = Field(default="", max_length=200)
    email: str = Field(default="", max_length=254)
    magnitude: Decimal | None = Field(default=None, ge=0, le=Decimal("9999999999.99"))
    inputs: dict[str, Scalar] = Field(
        default_factory=dict,
        description="Policy inputs (distance_km, intra_eu, notice_days, …); extra top-level "
        "fields are read as inputs too.",
    )


class AffectedBatchIn(InSchema):
    customers: list[AffectedIn] = Field(max_length=MAX_BATCH)
    create_missing: bool = Field(
        default=False,
        description="Create customers whose reference is unknown (needs a name); otherwise "
        "such rows are rejected.",
    )


class RejectOut(Schema):
    row: int
    external_ref: str
    code: str
    message: str


class AffectedOut(Schema):
    added: int
    already: int
    rejected: list[RejectOut]
    rejected_count: int
    created_customers: int
    over_budget: int


class LinkCasesIn(InSchema):
    case_refs: list[str] = Field(min_length=1, max_length=MAX_BATCH)


class NotifyIn(InSchema):
    kind: str = Field(default="initial", description="initial, update or resolved")
    subject: str = Field(default="", max_length=200, description="Empty: the template's")
    body: str = Field(default="", max_length=20_000, description="Empty: the template's")


class PreviewOut(Schema):
    subject: str
    body: str
    recipient: str
    customers: int


class StatusIn(InSchema):
    status: str = Field(min_length=1, max_length=20)


class UpdateIn(InSchema):
    body: str = Field(min_length=1, max_length=5_000)
    public: bool = True


class CloseIn(InSchema):
    root_cause_id: int = Field(ge=1, le=MAX_ID)
    prevention: str = Field(min_length=1, max_length=2_000)
    prevention_owner: str = Field(min_length=1, max_length=150, description="username")
    prevention_due_at: datetime


class DryRunIn(InSchema):
    tier: str = Field(default="standard", max_length=20)
    magnitude: Decimal | None = Field(default=None, ge=0, le=Decimal("9999999999.99"))
    inputs: dict[str, Scalar] = Field(default_factory=dict)


class LineOut(Schema):
    rule: str
    label: str
    remedy: str
    amount: str | None
    status: str
    care: bool
    why: list[str]


class DryRunOut(Schema):
    policy_id: int | None
    policy: str | None
    currency: str
    lines: list[LineOut]


class PolicyIn(InSchema):
    kind: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=200)
    owner: str = Field(min_length=1, max_length=150, description="username of the owner")
    currency: str = Field(default="EUR", min_length=3, max_length=3)
    budget_cap: Decimal | None = Field(default=None, gt=0, le=Decimal("9999999999.99"))
    rules: list[dict[str, Any]] = Field(min_length=1, max_length=100)
    note: str = Field(default="", max_length=5_000)


class PolicyOut(Schema):
    id: int
    kind: str
    name: str
    version: int
    active: bool
    owner: str
    currency: str
    budget_cap: Decimal | None
    rules: list[dict[str, Any]]
    created_at: datetime


class PolicyDryRunIn(DryRunIn):
    pass


class ImpactOut(Schema):
    customer: str | None
    customer_name: str
    case: str | None
    policy_version: int | None
    lines: list[dict[str, Any]]
    notified_at: datetime | None
    chose_at: datetime | None
    complained_at: datetime | None
    cost: Decimal


class ListQuery(InSchema):
    page: int = Field(default=1, ge=1, le=100_000)
    size: int = Field(default=25, ge=1, le=200)
    status: str = Field(default="", max_length=20)


# ---- shaping --------------------------------------------------------------------------------


def _funnel(incident: Incident) -> dict[str, Any]:
    funnel = funnel_of(incident=incident)  # the row was just read with its counters
    policy = incident.policy
    return {
        **funnel.__dict__,
        "budget_cap": policy.budget_cap if policy else None,
        "currency": policy.currency if policy else "",
    }


def incident_out(incident: Incident, *, detail: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": incident.pk,
        "ref": incident.ref,
        "title": incident.title,
        "kind": incident.kind.code,
        "status": incident.status,
        "severity": incident.severity,
        "magnitude": incident.magnitude,
        "started_at": incident.started_at,
        "ended_at": incident.ended_at,
        "public_description": incident.public_description,
        "root_cause": incident.root_cause.name if incident.root_cause else None,
        "problem_id": incident.problem_id,
        "policy_id": incident.policy_id,
        "policy_version": incident.policy.version if incident.policy else None,
    }
    if detail:
        data["counters"] = _funnel(incident)
        data["rounds"] = [round_progress_of(notice=r) for r in round_list(incident=incident)]
        data["updates"] = [
            {"body": u.body, "public": u.public, "created_at": u.created_at}
            for u in incident_update_list(incident=incident)
        ]
    return data


def policy_out(p: RecoveryPolicy) -> dict[str, Any]:
    return {
        "id": p.pk,
        "kind": p.kind.code,
        "name": p.name,
        "version": p.version,
        "active": p.active,
        "owner": p.owner.username,
        "currency": p.currency,
        "budget_cap": p.budget_cap,
        "rules": p.rules,
        "created_at": p.created_at,
    }


def _inputs(row: AffectedIn) -> dict[str, Any]:
    extra = dict(row.model_extra or {})
    return {**extra, **row.inputs}


# ---- incidents --------------------------------------------------------------------------


@router.post("", response={201: IncidentCreatedOut, **ERRORS})
def incident_create_endpoint(
    request: AuthedRequest, payload: IncidentCreateIn
) -> Status[dict[str, Any]]:
    service = Service.objects.get(pk=payload.service_id) if payload.service_id else None
    incident = incident_create(
        title=payload.title,
        kind=payload.kind,
        magnitude=payload.magnitude,
        started_at=payload.started_at,
        severity=payload.severity,
        ended_at=payload.ended_at,
        service=service,
        public_description=payload.public_description,
        internal_notes=payload.internal_notes,
        actor=request.user,
    )
    return Status(201, {"id": incident.pk, "ref": incident.ref, "policy_id": incident.policy_id})


@router.get("", response={200: PageOut[IncidentOut], **ERRORS})
def incident_list_endpoint(request: AuthedRequest, query: Query[ListQuery]) -> dict[str, Any]:
    page = paginate(
        incident_list(user=request.user, status=query.status), page=query.page, size=query.size
    )
    return {
        "items": [incident_out(i) for i in page.items],
        "page": page.page,
        "size": page.size,
        "has_next": page.has_next,
    }


@router.get("/{incident_id}", response={200: IncidentOut, **ERRORS})
def incident_detail_endpoint(request: AuthedRequest, incident_id: Id) -> dict[str, Any]:
    incident = incident_get_for_user(incident_id=incident_id, user=request.user)
    return incident_out(incident, detail=True)


@router.post("/{incident_id}/affected", response={200: AffectedOut, **ERRORS})
def impacts_add_endpoint(
    request: AuthedRequest, incident_id: Id, payload: AffectedBatchIn
) -> dict[str, Any]:
    incident = incident_get_for_user(incident_id=incident_id, user=request.user)
    rows = [
        AffectedRow(
            external_ref=row.external_ref,
            name=row.name,
            email=row.email,
            magnitude=row.magnitude,
            inputs=_inputs(row),
            line=index,
        )
        for index, row in enumerate(payload.customers)
    ]
    result = impacts_add(
        incident=incident, rows=rows, actor=request.user, create_missing=payload.create_missing
    )
    return {
        "added": result.added,
        "already": result.already,
        "rejected": result.rejected[:1000],
        "rejected_count": len(result.rejected),
        "created_customers": result.created_customers,
        "over_budget": result.over_budget,
    }


@router.get("/{incident_id}/affected", response={200: PageOut[ImpactOut], **ERRORS})
def impact_list_endpoint(
    request: AuthedRequest, incident_id: Id, query: Query[ListQuery]
) -> dict[str, Any]:
    incident = incident_get_for_user(incident_id=incident_id, user=request.user)
    page = paginate(impact_list_for_incident(incident=incident), page=query.page, size=query.size)
    versions = dict(
        RecoveryPolicy.objects.filter(pk__in={i.policy_id for i in page.items}).values_list(
            "pk", "version"
        )
    )
    return {
        "items": [
            {
                "customer": i.customer.external_ref,
                "customer_name": i.customer.name,
                "case": i.case.ref if i.case else None,
                "policy_version": versions.get(i.policy_id) if i.policy_id else None,
                "lines": i.lines,
                "notified_at": i.notified_at,
                "chose_at": i.chose_at,
                "complained_at": i.complained_at,
                "cost": i.cost,
            }
            for i in page.items
        ],
        "page": page.page,
        "size": page.size,
        "has_next": page.has_next,
    }


@router.post("/{incident_id}/cases", response={200: dict[str, Any], **ERRORS})
def incident_link_cases_endpoint(
    request: AuthedRequest, incident_id: Id, payload: LinkCasesIn
) -> dict[str, Any]:
    from amends.cases.models import case_pk_from_ref

    incident = incident_get_for_user(incident_id=incident_id, user=request.user)
    ids = [pk for pk in (case_pk_from_ref(ref) for ref in payload.case_refs) if pk is not None]
    result = incident_link_cases(incident=incident, case_ids=ids, actor=request.user)
    return {
        "linked": result.linked,
        "already": result.already,
        "rejected": result.rejected
        + [
            {"case_ref": ref, "code": "unknown_case", "message": "No such case."}
            for ref in payload.case_refs
            if case_pk_from_ref(ref) is None
        ],
    }


@router.post("/{incident_id}/notify/preview", response={200: PreviewOut, **ERRORS})
def round_preview_endpoint(
    request: AuthedRequest, incident_id: Id, payload: NotifyIn
) -> dict[str, Any]:
    incident = incident_get_for_user(incident_id=incident_id, user=request.user)
    return round_preview(
        incident=incident, kind=payload.kind, subject=payload.subject, body=payload.body
    ).__dict__


@router.post("/{incident_id}/notify", response={202: RoundOut, **ERRORS})
def round_start_endpoint(
    request: AuthedRequest, incident_id: Id, payload: NotifyIn
) -> Status[dict[str, Any]]:
    incident = incident_get_for_user(incident_id=incident_id, user=request.user)
    notice = round_start(
        incident=incident,
        kind=payload.kind,
        subject=payload.subject,
        body=payload.body,
        actor=request.user,
    )
    return Status(202, round_progress(notice=notice))


@router.post("/{incident_id}/status", response={200: IncidentOut, **ERRORS})
def incident_status_endpoint(
    request: AuthedRequest, incident_id: Id, payload: StatusIn
) -> dict[str, Any]:
    incident = incident_get_for_user(incident_id=incident_id, user=request.user)
    incident_status_set(incident=incident, status=payload.status, actor=request.user)
    return incident_out(incident_get_for_user(incident_id=incident_id, user=request.user))


@router.post("/{incident_id}/updates", response={201: dict[str, Any], **ERRORS})
def incident_update_endpoint(
    request: AuthedRequest, incident_id: Id, payload: UpdateIn
) -> Status[dict[str, Any]]:
    incident = incident_get_for_user(incident_id=incident_id, user=request.user)
    update = incident_update_post(
        incident=incident, body=payload.body, public=payload.public, actor=request.user
    )
    return Status(201, {"id": update.pk, "public": update.public})


@router.post("/{incident_id}/close", response={200: IncidentOut, **ERRORS})
def incident_close_endpoint(
    request: AuthedRequest, incident_id: Id, payload: CloseIn
) -> dict[str, Any]:
    incident = incident_get_for_user(incident_id=incident_id, user=request.user)
    incident_close(
        incident=incident,
        root_cause=RootCause.objects.get(pk=payload.root_cause_id),
        prevention=payload.prevention,
        prevention_owner=staff_get_by_username(
            username=payload.prevention_owner, field="prevention_owner"
        ),
        prevention_due_at=payload.prevention_due_at,
        actor=request.user,
    )
    return incident_out(incident_get_for_user(incident_id=incident_id, user=request.user))


@router.post("/{incident_id}/dry-run", response={200: DryRunOut, **ERRORS})
def incident_dry_run_endpoint(
    request: AuthedRequest, incident_id: Id, payload: DryRunIn
) -> dict[str, Any]:
    """What a customer with these inputs would get under this incident's policy, and why."""
    incident = incident_get_for_user(incident_id=incident_id, user=request.user)
    policy, lines = incident_dry_run(
        incident=incident, tier=payload.tier, magnitude=payload.magnitude, inputs=payload.inputs
    )
    return {
        "policy_id": policy.pk if policy else None,
        "policy": str(policy) if policy else None,
        "currency": policy.currency if policy else "",
        "lines": [line.as_dict() for line in lines],
    }


@router.get("/{incident_id}/progress", response={200: RoundOut | None, **ERRORS})
def round_progress_endpoint(request: AuthedRequest, incident_id: Id) -> dict[str, Any] | None:
    incident = incident_get_for_user(incident_id=incident_id, user=request.user)
    notice = round_current(incident=incident)
    return round_progress(notice=notice) if notice else None


# ---- policies ---------------------------------------------------------------------------

policy_router = Router(tags=["incidents"])


@policy_router.get("", response={200: list[PolicyOut], **ERRORS})
def policy_list_endpoint(request: AuthedRequest) -> list[dict[str, Any]]:
    from amends.accounts.selectors import staff_profile_of

    staff_profile_of(user=request.user)
    return [policy_out(p) for p in policy_list()[:500]]


@policy_router.post("", response={201: PolicyOut, **ERRORS})
def policy_create_endpoint(request: AuthedRequest, payload: PolicyIn) -> Status[dict[str, Any]]:
    """A new policy for the kind, or its next version (the active one is replaced)."""
    policy = policy_create(
        kind=incident_kind_clean(payload.kind),
        name=payload.name,
        rules=payload.rules,
        owner=staff_get_by_username(username=payload.owner, field="owner"),
        currency=payload.currency,
        budget_cap=payload.budget_cap,
        note=payload.note,
        actor=request.user,
    )
    return Status(201, policy_out(policy_get(policy_id=policy.pk)))


@policy_router.get("/{policy_id}", response={200: PolicyOut, **ERRORS})
def policy_detail_endpoint(request: AuthedRequest, policy_id: Id) -> dict[str, Any]:
    from amends.accounts.selectors import staff_profile_of

    staff_profile_of(user=request.user)
    return policy_out(policy_get(policy_id=policy_id))


@policy_router.post("/{policy_id}/deactivate", response={200: PolicyOut, **ERRORS})
def policy_deactivate_endpoint(request: AuthedRequest, policy_id: Id) -> dict[str, Any]:
    policy = policy_deactivate(policy=policy_get(policy_id=policy_id), actor=request.user)
    return policy_out(policy_get(policy_id=policy.pk))


@policy_router.post("/{policy_id}/dry-run", response={200: DryRunOut, **ERRORS})
def policy_dry_run_endpoint(
    request: AuthedRequest, policy_id: Id, payload: PolicyDryRunIn
) -> dict[str, Any]:
    """Evaluate one version for given inputs (the incident magnitude is `magnitude`)."""
    from amends.accounts.selectors import staff_profile_of

    staff_profile_of(user=request.user)
    policy = policy_get(policy_id=policy_id)
    probe = Incident(magnitude=payload.magnitude or Decimal("0"), policy=policy)
    _, lines = incident_dry_run(
        incident=probe, tier=payload.tier, magnitude=payload.magnitude, inputs=payload.inputs
    )
    return {
        "policy_id": policy.pk,
        "policy": str(policy),
        "currency": policy.currency,
        "lines": [line.as_dict() for line in lines],
    }

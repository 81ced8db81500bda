from datetime import datetime
from typing import Any, Literal

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Prefetch, prefetch_related_objects
from ninja import Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.params.functions import File
from pydantic import Field, model_validator

from amends.accounts.models import Team
from amends.accounts.selectors import staff_get_by_username, staff_profile_of
from amends.api.insight import (
    CaseInsightBriefOut,
    MessageScoreOut,
    case_insight_brief,
    message_scores,
)
from amends.api.schemas import ERRORS, CustomerIn, Id, InSchema, PageOut
from amends.cases.choices import CaseStatus, Channel, Fault, MessageDirection, Outcome, SlaState
from amends.cases.event_kinds import events_render
from amends.cases.listing import case_list_search
from amends.cases.models import Case, CaseStep, Message
from amends.cases.selectors import (
    CaseFilters,
    case_get_for_user,
    case_message_list,
    case_steps,
    case_timeline,
)
from amends.cases.services.intake import NewCustomer, case_intake
from amends.cases.services.messages import case_message_add
from amends.cases.services.workflow import (
    case_acknowledge,
    case_assign,
    case_await_customer,
    case_close,
    case_reopen,
    case_resolve,
    case_resume,
    case_step_done,
    case_step_skip,
    case_update,
)
from amends.channels.models import Attachment
from amends.channels.services.attachments import message_attachments_add, uploaded_files_read
from amends.core.exceptions import ApplicationError
from amends.core.pagination import paginate
from amends.core.types import AuthedRequest
from amends.customers.models import Customer
from amends.policies.choices import RecoveryStep
from amends.taxonomy.models import Category, Service

router = Router(tags=["cases"])

SortLit = Literal[
    "relevance", "due", "-due", "newest", "oldest", "severity", "-severity", "attention"
]


# ---- output -------------------------------------------------------------------------------


class CustomerRefOut(Schema):
    id: int
    name: str
    external_ref: str | None
    tier: str
    special_handling: bool


class StepOut(Schema):
    step: str
    required: bool
    state: str
    actor: str | None = None
    at: datetime | None = None
    note: str = ""
    skip_reason: str = ""


class SlaOut(Schema):
    state: str
    due_at: datetime | None
    at_risk_at: datetime | None
    acknowledge_due_at: datetime
    resolve_due_at: datetime
    acknowledged_on_time: bool | None
    paused: bool
    merged_into: str | None = Field(
        default=None,
        description="The survivor's ref when this case was merged into it (state not_applicable).",
    )


class CaseSummaryOut(Schema):
    ref: str
    id: int
    version: int
    status: str
    title: str
    severity: int
    channel: str
    customer: CustomerRefOut
    team: str | None
    assignee: str | None
    category: str | None
    sla: SlaOut
    created_at: datetime
    attention: float = Field(
        description="How strongly the customer's words call for attention (the 'attention' "
        "sort; weighted upset, churn intent, threats and repeat failures)."
    )
    upset: bool
    churn_intent: bool
    repeat_failure: bool


class CaseOut(CaseSummaryOut):
    description: str
    expected: str
    delivered: str
    staff_account: str
    fault: str
    outcome: str
    outcome_explanation: str
    service: str | None
    playbook: str | None
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    reopened_at: datetime | None
    steps: list[StepOut]
    insight: CaseInsightBriefOut | None = Field(
        default=None, description="Upset, churn, threat, repeat flags and the triage suggestion."
    )


class EventOut(Schema):
    id: int
    kind: str
    actor: str | None
    data: dict[str, Any]
    # The event as a sentence with names, as the timeline page shows it.
    text: str
    created_at: datetime


class MessageFileOut(Schema):
    id: int
    filename: str
    size: int
    url: str = Field(description="Where to download it (GET, same authentication).")


class MessageOut(Schema):
    id: int
    direction: str
    author: str | None
    body: str
    created_at: datetime
    attachments: list[MessageFileOut] = Field(default_factory=list)
    score: MessageScoreOut | None = Field(
        default=None, description="How the customer's message reads (insight); None otherwise."
    )


def sla_out(case: Case) -> SlaOut:
    return SlaOut(
        state=case.sla_state,
        due_at=case.sla_due_at,
        at_risk_at=case.sla_at_risk_at,
        acknowledge_due_at=case.ack_due_at,
        resolve_due_at=case.resolve_due_at,
        acknowledged_on_time=case.ack_met,
        paused=case.sla_state == SlaState.PAUSED,
        merged_into=case.merged_into_ref or None,
    )


def _summary(case: Case) -> dict[str, Any]:
    return {
        "ref": case.ref,
        "id": case.pk,
        "version": case.version,
        "status": case.status,
        "title": case.title,
        "severity": case.severity,
        "channel": case.channel,
        "customer": case.customer,
        "team": case.team.name if case.team else None,
        "assignee": case.assignee.username if case.assignee else None,
        "category": str(case.category) if case.category else None,
        "sla": sla_out(case),
        "created_at": case.created_at,
        "attention": case.attention,
        "upset": case.upset,
        "churn_intent": case.churn_intent,
        "repeat_failure": case.repeat_failure,
    }


def step_out(row: CaseStep) -> StepOut:
    return StepOut(
        step=row.step,
        required=row.required,
        state=row.state,
        actor=row.actor.username if row.actor else None,
        at=row.at,
        note=row.note,
        skip_reason=row.skip_reason,
    )


def case_out(case: Case) -> dict[str, Any]:
    return {
        **_summary(case),
        "description": case.description,
        "expected": case.expected,
        "delivered": case.delivered,
        "staff_account": case.staff_account,
        "fault": case.fault,
        "outcome": case.outcome,
        "outcome_explanation": case.outcome_explanation,
        "service": case.service.name if case.service else None,
        "playbook": case.playbook.name if case.playbook else None,
        "acknowledged_at": case.acknowledged_at,
        "resolved_at": case.resolved_at,
        "closed_at": case.closed_at,
        "reopened_at": case.reopened_at,
        "steps": [step_out(s) for s in case_steps(case=case)],
        "insight": case_insight_brief(case),
    }


def _reload(request: AuthedRequest, case: Case) -> dict[str, Any]:
    return case_out(case_get_for_user(ref=case.ref, user=request.user))


# ---- input --------------------------------------------------------------------------------


class CaseCreateIn(InSchema):
    customer_id: Id | None = Field(default=None, description="An existing customer's id")
    customer: CustomerIn | None = Field(
        default=None,
        description="Or the customer's details: matched by external_ref, created if new",
    )
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=50_000)
    expected: str = Field(default="", max_length=10_000)
    delivered: str = Field(default="", max_length=10_000)
    staff_account: str = Field(default="", max_length=10_000)
    channel: Channel = Channel.API
    severity: int = Field(default=3, ge=1, le=4)
    fault: Fault = Fault.UNDETERMINED
    category_id: Id | None = None
    service_id: Id | None = None
    team_id: Id | None = None
    assignee: str | None = Field(default=None, description="Username")

    @model_validator(mode="after")
    def _one_customer(self) -> "CaseCreateIn":
        if (self.customer_id is None) == (self.customer is None):
            raise ValueError("Give exactly one of customer_id or customer.")
        return self


class VersionIn(InSchema):
    version: int = Field(ge=1, description="The case version you read")


class NoteIn(VersionIn):
    note: str = Field(default="", max_length=5_000)


class SkipIn(VersionIn):
    reason: str = Field(min_length=1, max_length=2_000)


class AssignIn(VersionIn):
    assignee: str | None = Field(default=None, description="Username, or null for the team queue")
    team_id: Id | None = None


class ResolveIn(VersionIn):
    outcome: Outcome
    explanation: str = Field(default="", max_length=10_000)
    confirm_undetermined: bool = Field(
        default=False,
        description="Resolve although who was at fault is undetermined (refused with 422 "
        "fault_undetermined otherwise).",
    )


class ReopenIn(VersionIn):
    reason: str = Field(default="", max_length=2_000)


class MessageIn(InSchema):
    direction: MessageDirection
    body: str = Field(min_length=1, max_length=50_000)
    version: int | None = Field(default=None, ge=1)
    awaiting_customer: bool = False


class CaseUpdateIn(VersionIn):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=50_000)
    expected: str | None = Field(default=None, max_length=10_000)
    delivered: str | None = Field(default=None, max_length=10_000)
    staff_account: str | None = Field(default=None, max_length=10_000)
    fault: Fault | None = None
    severity: int | None = Field(default=None, ge=1, le=4)
    category_id: Id | None = None
    service_id: Id | None = None


class CaseListQuery(InSchema):
    status: CaseStatus | None = None
    team_id: Id | None = None
    assignee: str | None = Field(default=None, description="Username, or 'me'")
    unassigned: bool = False
    category_id: Id | None = None
    severity: int | None = Field(default=None, ge=1, le=4)
    customer_id: Id | None = None
    sla: SlaState | None = None
    open: bool = False
    tag: str | None = Field(default=None, max_length=50, description="Only cases with this tag")
    upset: bool = Field(default=False, description="Only cases whose customer reads as upset.")
    churn: bool = Field(
        default=False, description="Only cases whose customer said they may leave (churn intent)."
    )
    repeat: bool = Field(
        default=False, description="Only repeat failures (the customer failed with us before)."
    )
    q: str | None = Field(
        default=None,
        max_length=200,
        description=(
            "Search: every word must match the reference, title, customer's name, email or "
            "phone, or the customer's account (prefixes count: 'wals' finds Walsh). "
            "Results are best match first unless `sort` is given."
        ),
    )
    sort: SortLit | None = None
    page: int = Field(default=1, ge=1, le=100_000)
    size: int = Field(default=25, ge=1, le=200)


def _lookup(model: type[Any], pk: int | None, field: str) -> Any:
    if pk is None:
        return None
    found = model.objects.filter(pk=pk).first()
    if found is None:
        raise ApplicationError(
            f"Unknown {field} {pk}.",
            code="invalid_input",
            status=422,
            detail={field: ["Not found."]},
        )
    return found


def _user(username: str | None, field: str = "assignee") -> User | None:
    return None if username is None else staff_get_by_username(username=username, field=field)


# ---- endpoints ----------------------------------------------------------------------------


@router.post("", response={201: CaseOut, **ERRORS}, summary="Open a case")
@transaction.atomic
def case_create_endpoint(request: AuthedRequest, payload: CaseCreateIn) -> Status[dict[str, Any]]:
    staff_profile_of(user=request.user)
    category = _lookup(Category, payload.category_id, "category_id")
    service = _lookup(Service, payload.service_id, "service_id")
    team = _lookup(Team, payload.team_id, "team_id")
    assignee = _user(payload.assignee)
    customer = None
    new_customer = None
    if payload.customer_id is not None:
        customer = _lookup(Customer, payload.customer_id, "customer_id")
    else:
        assert payload.customer is not None  # noqa: S101  # checked by the schema
        details = payload.customer.dict()
        new_customer = NewCustomer(
            name=details.pop("name"),
            external_ref=details.pop("external_ref") or "",
            details=details,
        )
    case = case_intake(
        customer=customer,
        new_customer=new_customer,
        title=payload.title,
        description=payload.description,
        expected=payload.expected,
        delivered=payload.delivered,
        staff_account=payload.staff_account,
        channel=payload.channel,
        severity=payload.severity,
        fault=payload.fault,
        category=category,
        service=service,
        team=team,
        assignee=assignee,
        actor=request.user,
    )
    return Status(201, case_out(case))


@router.get("", response={200: PageOut[CaseSummaryOut], **ERRORS}, summary="List cases")
def case_list_endpoint(request: AuthedRequest, query: Query[CaseListQuery]) -> dict[str, Any]:
    assignee_id = None
    if query.assignee == "me":
        assignee_id = request.user.pk
    elif query.assignee:
        found = _user(query.assignee)
        assignee_id = found.pk if found else None
    filters = CaseFilters(
        status=query.status,
        team_id=query.team_id,
        assignee_id=assignee_id,
        unassigned=query.unassigned,
        category_id=query.category_id,
        severity=query.severity,
        customer_id=query.customer_id,
        sla_state=query.sla,
        open_only=query.open,
        tag=query.tag,
        upset=query.upset,
        churn_intent=query.churn,
        repeat_failure=query.repeat,
    )
    cases = case_list_search(user=request.user, filters=filters, text=query.q, sort=query.sort)
    page = paginate(cases, page=query.page, size=query.size)
    return {
        "items": [_summary(c) for c in page.items],
        "page": page.page,
        "size": page.size,
        "has_next": page.has_next,
    }


@router.get("/{ref}", response={200: CaseOut, **ERRORS}, summary="Get a case")
def case_get_endpoint(request: AuthedRequest, ref: str) -> dict[str, Any]:
    return case_out(case_get_for_user(ref=ref, user=request.user))


@router.patch(
    "/{ref}", response={200: CaseOut, **ERRORS}, summary="Edit the account of what happened"
)
def case_update_endpoint(request: AuthedRequest, ref: str, payload: CaseUpdateIn) -> dict[str, Any]:
    case = case_get_for_user(ref=ref, user=request.user)
    fields = payload.dict(exclude_unset=True, exclude={"version"})
    if "category_id" in fields:
        fields["category"] = _lookup(Category, fields.pop("category_id"), "category_id")
    if "service_id" in fields:
        fields["service"] = _lookup(Service, fields.pop("service_id"), "service_id")
    fields = {k: v for k, v in fields.items() if v is not None or k in ("category", "service")}
    case = case_update(case=case, version=payload.version, actor=request.user, **fields)
    return _reload(request, case)


@router.get(
    "/{ref}/timeline", response={200: list[EventOut], **ERRORS}, summary="The case's audit trail"
)
def case_timeline_endpoint(request: AuthedRequest, ref: str) -> list[dict[str, Any]]:
    case = case_get_for_user(ref=ref, user=request.user)
    return [
        {
            "id": line.event.pk,
            "kind": line.event.kind,
            "actor": line.event.actor.username if line.event.actor else None,
            "data": line.event.data,
            "text": line.text,
            "created_at": line.event.created_at,
        }
        for line in events_render(case_timeline(case=case))
    ]


@router.get(
    "/{ref}/messages", response={200: list[MessageOut], **ERRORS}, summary="The conversation"
)
def case_message_list_endpoint(request: AuthedRequest, ref: str) -> list[dict[str, Any]]:
    case = case_get_for_user(ref=ref, user=request.user)
    messages = case_message_list(case=case)
    prefetch_related_objects(
        messages, Prefetch("attachments", queryset=Attachment.objects.order_by("id"))
    )
    scores = message_scores([m.pk for m in messages])
    return [_message(case, m, scores.get(m.pk)) for m in messages]


def _message(
    case: Case,
    m: Message,
    score: dict[str, Any] | None = None,
    files: list[Attachment] | None = None,
) -> dict[str, Any]:
    return {
        "id": m.pk,
        "direction": m.direction,
        "author": m.author.username if m.author else None,
        "body": m.body,
        "created_at": m.created_at,
        "score": score,
        "attachments": [
            {
                "id": a.pk,
                "filename": a.filename,
                "size": a.size,
                "url": f"/api/v1/cases/{case.ref}/attachments/{a.pk}",
            }
            for a in (m.attachments.all() if files is None else files)
        ],
    }


@router.post(
    "/{ref}/messages", response={201: MessageOut, **ERRORS}, summary="Add a message or note"
)
def case_message_add_endpoint(
    request: AuthedRequest, ref: str, payload: MessageIn
) -> Status[dict[str, Any]]:
    case = case_get_for_user(ref=ref, user=request.user)
    message = case_message_add(
        case=case,
        direction=payload.direction,
        body=payload.body,
        actor=request.user,
        version=payload.version,
        awaiting_customer=payload.awaiting_customer,
    )
    message.author = request.user
    return Status(201, _message(case, message, message_scores([message.pk]).get(message.pk), []))


@router.post(
    "/{ref}/messages/with-files",
    response={201: MessageOut, **ERRORS},
    summary="Add a message or note with files",
)
def case_message_add_with_files_endpoint(
    request: AuthedRequest,
    ref: str,
    payload: Form[MessageIn],
    attachments: list[UploadedFile] = File(default=None),  # noqa: B008
) -> Status[dict[str, Any]]:
    """multipart/form-data: the message's fields and up to AMENDS_ATTACHMENT_MAX_PER_MESSAGE
    files under `attachments`. The message and its files are stored together or not at all."""
    case = case_get_for_user(ref=ref, user=request.user)
    files = uploaded_files_read(attachments)
    with transaction.atomic():
        message = case_message_add(
            case=case,
            direction=payload.direction,
            body=payload.body,
            actor=request.user,
            version=payload.version,
            awaiting_customer=payload.awaiting_customer,
        )
        stored = message_attachments_add(message=message, files=files, actor=request.user)
    message.author = request.user
    score = message_scores([message.pk]).get(message.pk)
    return Status(201, _message(case, message, score, stored))


@router.post("/{ref}/acknowledge", response={200: CaseOut, **ERRORS}, summary="Acknowledge")
def case_acknowledge_endpoint(request: AuthedRequest, ref: str, payload: NoteIn) -> dict[str, Any]:
    case = case_get_for_user(ref=ref, user=request.user)
    return _reload(
        request,
        case_acknowledge(case=case, version=payload.version, actor=request.user, note=payload.note),
    )


@router.post("/{ref}/assign", response={200: CaseOut, **ERRORS}, summary="Assign")
def case_assign_endpoint(request: AuthedRequest, ref: str, payload: AssignIn) -> dict[str, Any]:
    case = case_get_for_user(ref=ref, user=request.user)
    assignee = _user(payload.assignee)
    team = _lookup(Team, payload.team_id, "team_id")
    return _reload(
        request,
        case_assign(
            case=case, version=payload.version, actor=request.user, assignee=assignee, team=team
        ),
    )


@router.post(
    "/{ref}/steps/{step}/done", response={200: CaseOut, **ERRORS}, summary="Mark a step done"
)
def case_step_done_endpoint(
    request: AuthedRequest, ref: str, step: RecoveryStep, payload: NoteIn
) -> dict[str, Any]:
    case = case_get_for_user(ref=ref, user=request.user)
    return _reload(
        request,
        case_step_done(
            case=case, step=step, version=payload.version, actor=request.user, note=payload.note
        ),
    )


@router.post(
    "/{ref}/steps/{step}/skip",
    response={200: CaseOut, **ERRORS},
    summary="Skip a step, with a reason",
)
def case_step_skip_endpoint(
    request: AuthedRequest, ref: str, step: RecoveryStep, payload: SkipIn
) -> dict[str, Any]:
    case = case_get_for_user(ref=ref, user=request.user)
    return _reload(
        request,
        case_step_skip(
            case=case, step=step, reason=payload.reason, version=payload.version, actor=request.user
        ),
    )


@router.post(
    "/{ref}/await-customer",
    response={200: CaseOut, **ERRORS},
    summary="Wait for the customer (pauses the resolve clock)",
)
def case_await_customer_endpoint(
    request: AuthedRequest, ref: str, payload: VersionIn
) -> dict[str, Any]:
    case = case_get_for_user(ref=ref, user=request.user)
    return _reload(
        request, case_await_customer(case=case, version=payload.version, actor=request.user)
    )


@router.post("/{ref}/resume", response={200: CaseOut, **ERRORS}, summary="Back to recovery")
def case_resume_endpoint(request: AuthedRequest, ref: str, payload: VersionIn) -> dict[str, Any]:
    case = case_get_for_user(ref=ref, user=request.user)
    return _reload(request, case_resume(case=case, version=payload.version, actor=request.user))


@router.post("/{ref}/resolve", response={200: CaseOut, **ERRORS}, summary="Resolve with an outcome")
def case_resolve_endpoint(request: AuthedRequest, ref: str, payload: ResolveIn) -> dict[str, Any]:
    case = case_get_for_user(ref=ref, user=request.user)
    return _reload(
        request,
        case_resolve(
            case=case,
            outcome=payload.outcome,
            explanation=payload.explanation,
            version=payload.version,
            actor=request.user,
            confirm_undetermined=payload.confirm_undetermined,
        ),
    )


@router.post("/{ref}/close", response={200: CaseOut, **ERRORS}, summary="Close")
def case_close_endpoint(request: AuthedRequest, ref: str, payload: VersionIn) -> dict[str, Any]:
    case = case_get_for_user(ref=ref, user=request.user)
    return _reload(request, case_close(case=case, version=payload.version, actor=request.user))


@router.post("/{ref}/reopen", response={200: CaseOut, **ERRORS}, summary="Reopen")
def case_reopen_endpoint(request: AuthedRequest, ref: str, payload: ReopenIn) -> dict[str, Any]:
    case = case_get_for_user(ref=ref, user=request.user)
    return _reload(
        request,
        case_reopen(case=case, version=payload.version, actor=request.user, reason=payload.reason),
    )

"""Promises, escalations, notifications and their measures (issue 4)."""

from datetime import datetime

from django.urls import reverse
from ninja import Router, Schema, Status
from pydantic import Field

from amends.accounts.selectors import staff_get_by_username
from amends.api.schemas import ERRORS, InSchema, PageOut, page_out, username_of
from amends.cases.selectors import case_get_for_user
from amends.commitments.models import (
    Commitment,
    CommitmentDueChange,
    Escalation,
    Notification,
)
from amends.commitments.selectors import (
    commitment_get_for_user,
    commitment_list,
    commitment_list_for_case,
    escalation_get_for_user,
    escalation_list,
    escalation_list_for_case,
    notification_list,
    notification_unread_count,
    promise_measures,
)
from amends.commitments.services.commitments import (
    commitment_cancel,
    commitment_create,
    commitment_keep,
    commitment_reschedule,
)
from amends.commitments.services.escalations import escalation_decide, escalation_raise
from amends.commitments.services.notifications import (
    notification_mark_all_read,
    notification_mark_read,
)
from amends.core.types import AuthedRequest

router = Router(tags=["commitments"])


# ---- promises ---------------------------------------------------------------------------------


class CommitmentCreateIn(InSchema):
    kind: str = Field(
        description="callback, visit, refund, rebate, credit, fix, information, other"
    )
    description: str = Field(min_length=1, max_length=5000)
    owner: str = Field(description="Username of the staff member who keeps the promise.")
    due_at: datetime
    customer_visible: bool = True
    remedy_id: int | None = None


class CommitmentKeepIn(InSchema):
    note: str = Field(default="", max_length=5000)
    reference: str = Field(default="", max_length=200)


class CommitmentCancelIn(InSchema):
    reason: str = Field(min_length=1, max_length=5000)
    customer_informed: bool


class CommitmentRescheduleIn(InSchema):
    due_at: datetime
    reason: str = Field(min_length=1, max_length=5000)


class DueChangeOut(Schema):
    previous_due_at: datetime
    new_due_at: datetime
    reason: str
    created_at: datetime


class CommitmentOut(Schema):
    id: int
    case: str
    kind: str
    description: str
    owner: str
    due_at: datetime
    status: str
    light: str
    customer_visible: bool
    remedy_id: int | None
    kept_at: datetime | None
    kept_note: str
    kept_reference: str
    cancelled_at: datetime | None
    cancel_reason: str
    customer_informed: bool
    broken_at: datetime | None
    created_at: datetime
    due_history: list[DueChangeOut] = Field(
        description="Every reschedule, oldest first: the due time before and after, and why."
    )
    evidence_file_url: str | None = Field(
        description="Download link for the evidence file (staff who can see the case)."
    )

    @staticmethod
    def resolve_case(obj: Commitment) -> str:
        return obj.case.ref

    @staticmethod
    def resolve_due_history(obj: Commitment) -> list[CommitmentDueChange]:
        return list(obj.due_changes.all())  # prefetched by the selectors

    @staticmethod
    def resolve_evidence_file_url(obj: Commitment) -> str | None:
        if not obj.kept_file:
            return None
        return reverse("web:commitment-evidence", kwargs={"commitment_id": obj.pk})

    @staticmethod
    def resolve_owner(obj: Commitment) -> str:
        return obj.owner.username


@router.post(
    "/cases/{ref}/commitments", response={201: CommitmentOut, **ERRORS}, summary="Make a promise"
)
def commitment_create_endpoint(
    request: AuthedRequest, ref: str, payload: CommitmentCreateIn
) -> Status[Commitment]:
    case = case_get_for_user(ref=ref, user=request.user)
    commitment = commitment_create(
        case=case,
        kind=payload.kind,
        description=payload.description,
        owner=staff_get_by_username(username=payload.owner, field="owner"),
        due_at=payload.due_at,
        customer_visible=payload.customer_visible,
        remedy_id=payload.remedy_id,
        actor=request.user,
    )
    return Status(201, commitment)


@router.get("/cases/{ref}/commitments", response={200: list[CommitmentOut], **ERRORS})
def case_commitment_list_endpoint(request: AuthedRequest, ref: str) -> list[Commitment]:
    case = case_get_for_user(ref=ref, user=request.user)
    return commitment_list_for_case(case=case)


@router.get("/commitments", response={200: PageOut[CommitmentOut], **ERRORS})
def commitment_list_endpoint(
    request: AuthedRequest,
    state: str | None = None,
    owner: str | None = None,
    page: int = 1,
    size: int | None = None,
) -> dict[str, object]:
    owner_user = staff_get_by_username(username=owner, field="owner") if owner else None
    return page_out(
        commitment_list(user=request.user, state=state, owner=owner_user), page=page, size=size
    )


@router.get("/commitments/{commitment_id}", response={200: CommitmentOut, **ERRORS})
def commitment_get_endpoint(request: AuthedRequest, commitment_id: int) -> Commitment:
    return commitment_get_for_user(commitment_id=commitment_id, user=request.user)


@router.post("/commitments/{commitment_id}/keep", response={200: CommitmentOut, **ERRORS})
def commitment_keep_endpoint(
    request: AuthedRequest, commitment_id: int, payload: CommitmentKeepIn
) -> Commitment:
    commitment = commitment_get_for_user(commitment_id=commitment_id, user=request.user)
    return commitment_keep(
        commitment=commitment, actor=request.user, note=payload.note, reference=payload.reference
    )


@router.post("/commitments/{commitment_id}/cancel", response={200: CommitmentOut, **ERRORS})
def commitment_cancel_endpoint(
    request: AuthedRequest, commitment_id: int, payload: CommitmentCancelIn
) -> Commitment:
    commitment = commitment_get_for_user(commitment_id=commitment_id, user=request.user)
    return commitment_cancel(
        commitment=commitment,
        reason=payload.reason,
        customer_informed=payload.customer_informed,
        actor=request.user,
    )


@router.post("/commitments/{commitment_id}/reschedule", response={200: CommitmentOut, **ERRORS})
def commitment_reschedule_endpoint(
    request: AuthedRequest, commitment_id: int, payload: CommitmentRescheduleIn
) -> Commitment:
    commitment = commitment_get_for_user(commitment_id=commitment_id, user=request.user)
    return commitment_reschedule(
        commitment=commitment, due_at=payload.due_at, reason=payload.reason, actor=request.user
    )


# ---- escalations ------------------------------------------------------------------------------


class EscalationRaiseIn(InSchema):
    level: str = Field(default="supervisor", description="supervisor, manager or executive")
    note: str = Field(min_length=1, max_length=5000)
    assignee: str | None = Field(default=None, description="Username; default: nearest of level")


class EscalationDecideIn(InSchema):
    decision: str = Field(min_length=1, max_length=5000)


class EscalationOut(Schema):
    id: int
    case: str
    level: str
    reason: str
    note: str
    automatic: bool
    raised_by: str | None
    raised_at: datetime
    assignee: str | None
    decision_due_at: datetime
    status: str
    decision: str
    decided_at: datetime | None
    decided_by: str | None
    decision_seconds: int | None

    @staticmethod
    def resolve_case(obj: Escalation) -> str:
        return obj.case.ref

    @staticmethod
    def resolve_raised_by(obj: Escalation) -> str | None:
        return username_of(obj.raised_by)

    @staticmethod
    def resolve_assignee(obj: Escalation) -> str | None:
        return username_of(obj.assignee)

    @staticmethod
    def resolve_decided_by(obj: Escalation) -> str | None:
        return username_of(obj.decided_by)


@router.post(
    "/cases/{ref}/escalations", response={201: EscalationOut, **ERRORS}, summary="Escalate a case"
)
def escalation_raise_endpoint(
    request: AuthedRequest, ref: str, payload: EscalationRaiseIn
) -> Status[Escalation]:
    case = case_get_for_user(ref=ref, user=request.user)
    assignee = (
        staff_get_by_username(username=payload.assignee, field="assignee")
        if payload.assignee
        else None
    )
    escalation = escalation_raise(
        case=case, level=payload.level, note=payload.note, actor=request.user, assignee=assignee
    )
    return Status(201, escalation)


@router.get("/cases/{ref}/escalations", response={200: list[EscalationOut], **ERRORS})
def case_escalation_list_endpoint(request: AuthedRequest, ref: str) -> list[Escalation]:
    case = case_get_for_user(ref=ref, user=request.user)
    return escalation_list_for_case(case=case)


@router.get("/escalations", response={200: PageOut[EscalationOut], **ERRORS})
def escalation_list_endpoint(
    request: AuthedRequest,
    mine: bool = False,
    status: str = "open",
    page: int = 1,
    size: int | None = None,
) -> dict[str, object]:
    qs = escalation_list(user=request.user, mine=mine, status=status or None)
    return page_out(qs, page=page, size=size)


@router.post("/escalations/{escalation_id}/decide", response={200: EscalationOut, **ERRORS})
def escalation_decide_endpoint(
    request: AuthedRequest, escalation_id: int, payload: EscalationDecideIn
) -> Escalation:
    escalation = escalation_get_for_user(escalation_id=escalation_id, user=request.user)
    return escalation_decide(escalation=escalation, decision=payload.decision, actor=request.user)


# ---- notifications ----------------------------------------------------------------------------


class NotificationOut(Schema):
    id: int
    kind: str
    message: str
    url: str
    case: str | None
    created_at: datetime
    read_at: datetime | None

    @staticmethod
    def resolve_case(obj: Notification) -> str | None:
        return obj.case.ref if obj.case_id and obj.case else None


class NotificationPageOut(PageOut[NotificationOut]):
    unread: int


@router.get("/notifications", response={200: NotificationPageOut, **ERRORS})
def notification_list_endpoint(
    request: AuthedRequest, unread: bool = False, page: int = 1, size: int | None = None
) -> dict[str, object]:
    qs = notification_list(user=request.user, unread_only=unread).select_related("case")
    result = page_out(qs, page=page, size=size)
    result["unread"] = notification_unread_count(user=request.user)
    return result


@router.post("/notifications/{notification_id}/read", response={200: NotificationOut, **ERRORS})
def notification_mark_read_endpoint(request: AuthedRequest, notification_id: int) -> Notification:
    notification = (
        notification_list(user=request.user).select_related("case").get(pk=notification_id)
    )
    return notification_mark_read(notification=notification, actor=request.user)


class ReadAllOut(Schema):
    marked: int


@router.post("/notifications/read-all", response={200: ReadAllOut, **ERRORS})
def notification_mark_all_read_endpoint(request: AuthedRequest) -> dict[str, int]:
    return {"marked": notification_mark_all_read(actor=request.user)}


# ---- measures ---------------------------------------------------------------------------------


class BrokenCountOut(Schema):
    name: str
    broken: int


class LevelDecisionOut(Schema):
    level: str
    decided: int
    median_seconds: int | None


class PromiseMeasuresOut(Schema):
    kept: int
    kept_on_time: int
    broken: int
    kept_on_time_pct: float | None
    broken_per_team: list[BrokenCountOut]
    broken_per_person: list[BrokenCountOut]
    decision_by_level: list[LevelDecisionOut]


@router.get("/measures/promises", response={200: PromiseMeasuresOut, **ERRORS})
def promise_measures_endpoint(request: AuthedRequest) -> object:
    return promise_measures(user=request.user)

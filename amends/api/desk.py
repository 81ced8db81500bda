"""Desk work over the API: bulk actions with a result per row, tags, merging duplicates,
canned replies and a customer's handling (tier, special handling)."""

from datetime import datetime
from typing import Any, Literal

from django.db import transaction
from ninja import Query, Router, Schema
from pydantic import Field

from amends.accounts.models import Team
from amends.accounts.selectors import staff_get_by_username
from amends.api.schemas import ERRORS, Id, InSchema, PageOut
from amends.cases.models import CannedReply, Case, Tag
from amends.cases.selectors import case_get_for_user
from amends.cases.services.bulk_actions import (
    MAX_BULK_ROWS,
    BulkResult,
    BulkRow,
    cases_bulk_assign,
    cases_bulk_close,
)
from amends.cases.services.merge import case_merge
from amends.cases.services.replies import canned_replies_for_case, canned_reply_render
from amends.cases.services.tags import case_tags_change
from amends.core.exceptions import ApplicationError
from amends.core.pagination import paginate
from amends.core.types import AuthedRequest
from amends.customers.choices import CustomerTier
from amends.customers.models import Customer
from amends.customers.selectors import customer_history, customer_visible_to
from amends.customers.services import customer_handling_set
from amends.remedies.services.bulk import remedies_bulk_decide

router = Router(tags=["desk"])

Ref = str


# ---- bulk ---------------------------------------------------------------------------------


class CaseBulkIn(InSchema):
    action: Literal["assign", "close"]
    refs: list[Ref] = Field(min_length=1, max_length=MAX_BULK_ROWS)
    versions: dict[Ref, int] = Field(
        default_factory=dict,
        description="The version you read per reference; a row whose case moved on is refused "
        "(stale_version) and the others still go through. Leave out to skip the check.",
    )
    assignee: str | None = Field(
        default=None, description="assign: a username, or null for the team queue"
    )
    team_id: Id | None = Field(default=None, description="assign: the team whose queue")


class BulkRowOut(Schema):
    ref: str
    ok: bool
    error: str = ""
    code: str = ""


class CaseBulkOut(Schema):
    done: int
    failed: int
    results: list[BulkRowOut]


class ApprovalBulkIn(InSchema):
    action: Literal["approve", "reject"]
    ids: list[Id] = Field(min_length=1, max_length=MAX_BULK_ROWS)
    reason: str = Field(default="", max_length=2_000)


class ApprovalBulkRowOut(Schema):
    id: int
    ok: bool
    error: str = ""
    code: str = ""


class ApprovalBulkOut(Schema):
    done: int
    failed: int
    results: list[ApprovalBulkRowOut]


def _counts(results: list[BulkResult]) -> dict[str, int]:
    done = sum(1 for r in results if r.ok)
    return {"done": done, "failed": len(results) - done}


@router.post(
    "cases/bulk",
    response={200: CaseBulkOut, **ERRORS},
    summary="Assign or close many cases; a result per row",
)
def case_bulk_endpoint(request: AuthedRequest, payload: CaseBulkIn) -> dict[str, Any]:
    rows = [BulkRow(ref=ref, version=payload.versions.get(ref)) for ref in payload.refs]
    if payload.action == "assign":
        assignee = (
            staff_get_by_username(username=payload.assignee, field="assignee")
            if payload.assignee
            else None
        )
        team = None
        if payload.team_id is not None:
            team = Team.objects.filter(pk=payload.team_id).first()
            if team is None:
                raise ApplicationError(
                    f"Unknown team_id {payload.team_id}.",
                    code="invalid_input",
                    status=422,
                    detail={"team_id": ["Not found."]},
                )
        results = cases_bulk_assign(rows=rows, actor=request.user, assignee=assignee, team=team)
    else:
        results = cases_bulk_close(rows=rows, actor=request.user)
    return {**_counts(results), "results": [r.__dict__ for r in results]}


@router.post(
    "approvals/bulk",
    response={200: ApprovalBulkOut, **ERRORS},
    summary="Approve or reject many remedies waiting for you; a result per row",
)
def approval_bulk_endpoint(request: AuthedRequest, payload: ApprovalBulkIn) -> dict[str, Any]:
    results = remedies_bulk_decide(
        remedy_ids=payload.ids,
        approve=payload.action == "approve",
        reason=payload.reason,
        actor=request.user,
    )
    return {
        **_counts(results),
        "results": [
            {"id": int(r.ref), "ok": r.ok, "error": r.error, "code": r.code} for r in results
        ],
    }


# ---- tags ---------------------------------------------------------------------------------


class TagsIn(InSchema):
    add: list[str] = Field(default_factory=list, max_length=20)
    remove: list[str] = Field(default_factory=list, max_length=20)
    version: int | None = Field(default=None, ge=1)


class TagsOut(Schema):
    ref: str
    version: int
    tags: list[str]


def _tags_out(case: Case) -> dict[str, Any]:
    return {
        "ref": case.ref,
        "version": case.version,
        "tags": sorted(case.tags.values_list("name", flat=True)),
    }


@router.get("cases/{ref}/tags", response={200: TagsOut, **ERRORS}, summary="A case's tags")
def case_tags_endpoint(request: AuthedRequest, ref: str) -> dict[str, Any]:
    return _tags_out(case_get_for_user(ref=ref, user=request.user))


@router.post(
    "cases/{ref}/tags", response={200: TagsOut, **ERRORS}, summary="Add and remove tags on a case"
)
def case_tags_change_endpoint(request: AuthedRequest, ref: str, payload: TagsIn) -> dict[str, Any]:
    case = case_get_for_user(ref=ref, user=request.user)
    case = case_tags_change(
        case=case,
        actor=request.user,
        add=payload.add,
        remove=payload.remove,
        version=payload.version,
    )
    return _tags_out(case)


class TagListQuery(InSchema):
    page: int = Field(default=1, ge=1, le=100_000)
    size: int = Field(default=50, ge=1, le=200)


class TagOut(Schema):
    name: str


@router.get("tags", response={200: PageOut[TagOut], **ERRORS}, summary="Every tag in use")
def tag_list_endpoint(request: AuthedRequest, query: Query[TagListQuery]) -> dict[str, Any]:
    case_tags_visible_check(request)
    page = paginate(Tag.objects.order_by("name"), page=query.page, size=query.size)
    return {
        "items": [{"name": t.name} for t in page.items],
        "page": page.page,
        "size": page.size,
        "has_next": page.has_next,
    }


def case_tags_visible_check(request: AuthedRequest) -> None:
    customer_visible_to(user=request.user)  # staff only, like every list


# ---- merge --------------------------------------------------------------------------------


class MergeIn(InSchema):
    into: Ref = Field(description="The reference of the case that stays")
    reason: str = Field(default="", max_length=2_000)
    version: int | None = Field(default=None, ge=1, description="This case's version you read")


class MergeOut(Schema):
    merged: str
    into: str
    into_version: int


@router.post(
    "cases/{ref}/merge",
    response={200: MergeOut, **ERRORS},
    summary="Merge this (duplicate) case into another; it closes as merged",
)
@transaction.atomic
def case_merge_endpoint(request: AuthedRequest, ref: str, payload: MergeIn) -> dict[str, Any]:
    duplicate = case_get_for_user(ref=ref, user=request.user)
    survivor = case_get_for_user(ref=payload.into, user=request.user)
    survivor = case_merge(
        duplicate=duplicate,
        survivor=survivor,
        actor=request.user,
        reason=payload.reason,
        duplicate_version=payload.version,
    )
    return {"merged": duplicate.ref, "into": survivor.ref, "into_version": survivor.version}


# ---- canned replies -----------------------------------------------------------------------


class CannedReplyOut(Schema):
    id: int
    name: str
    body: str
    category: str | None


class CannedReplyRenderedOut(CannedReplyOut):
    unknown_placeholders: list[str]


class CannedReplyQuery(InSchema):
    page: int = Field(default=1, ge=1, le=100_000)
    size: int = Field(default=50, ge=1, le=200)


@router.get(
    "canned-replies",
    response={200: PageOut[CannedReplyOut], **ERRORS},
    summary="The canned replies (with their placeholders, unfilled)",
)
def canned_reply_list_endpoint(
    request: AuthedRequest, query: Query[CannedReplyQuery]
) -> dict[str, Any]:
    case_tags_visible_check(request)
    replies = (
        CannedReply.objects.filter(active=True)
        .select_related("category__parent")
        .order_by("name", "id")
    )
    page = paginate(replies, page=query.page, size=query.size)
    return {
        "items": [
            {
                "id": r.pk,
                "name": r.name,
                "body": r.body,
                "category": str(r.category) if r.category else None,
            }
            for r in page.items
        ],
        "page": page.page,
        "size": page.size,
        "has_next": page.has_next,
    }


@router.get(
    "cases/{ref}/canned-replies",
    response={200: list[CannedReplyRenderedOut], **ERRORS},
    summary="The canned replies offered on a case, placeholders filled in",
)
def case_canned_reply_list_endpoint(request: AuthedRequest, ref: str) -> list[dict[str, Any]]:
    case = case_get_for_user(ref=ref, user=request.user)
    out = []
    for reply in canned_replies_for_case(case=case)[:200]:
        rendered = canned_reply_render(reply=reply, case=case, actor=request.user)
        out.append(
            {
                "id": reply.pk,
                "name": reply.name,
                "body": rendered.body,
                "category": str(reply.category) if reply.category else None,
                "unknown_placeholders": rendered.unknown,
            }
        )
    return out


# ---- a customer's handling ----------------------------------------------------------------


class CustomerHandlingIn(InSchema):
    tier: CustomerTier
    special_handling: bool
    special_handling_reason: str = Field(default="", max_length=500)


class CustomerHandlingOut(Schema):
    id: int
    tier: str
    special_handling: bool
    special_handling_reason: str


class CustomerChangeOut(Schema):
    actor: str | None
    data: dict[str, Any]
    created_at: datetime


@router.put(
    "customers/{customer_id}/handling",
    response={200: CustomerHandlingOut, **ERRORS},
    summary="Set a customer's tier and special handling (supervisors and above; audited)",
)
def customer_handling_endpoint(
    request: AuthedRequest, customer_id: int, payload: CustomerHandlingIn
) -> dict[str, Any]:
    customer = customer_visible_to(user=request.user).get(pk=customer_id)
    customer = customer_handling_set(
        customer=customer,
        actor=request.user,
        tier=payload.tier,
        special_handling=payload.special_handling,
        special_handling_reason=payload.special_handling_reason,
    )
    return _handling_out(customer)


def _handling_out(customer: Customer) -> dict[str, Any]:
    return {
        "id": customer.pk,
        "tier": customer.tier,
        "special_handling": customer.special_handling,
        "special_handling_reason": customer.special_handling_reason,
    }


@router.get(
    "customers/{customer_id}/history",
    response={200: list[CustomerChangeOut], **ERRORS},
    summary="Who changed a customer's tier or special handling, and when",
)
def customer_history_endpoint(request: AuthedRequest, customer_id: int) -> list[dict[str, Any]]:
    customer = customer_visible_to(user=request.user).get(pk=customer_id)
    return [
        {
            "actor": e.actor.username if e.actor else None,
            "data": e.data,
            "created_at": e.created_at,
        }
        for e in customer_history(customer=customer)
    ]

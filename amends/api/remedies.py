from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone
from ninja import Query, Router, Schema, Status
from pydantic import Field

from amends.accounts.choices import Role
from amends.accounts.selectors import staff_get_by_username, staff_profile_of
from amends.api.schemas import ERRORS, InSchema, PageOut
from amends.cases.selectors import case_get_for_user
from amends.core.exceptions import PermissionDeniedError
from amends.core.pagination import paginate
from amends.core.types import AuthedRequest
from amends.remedies.models import AuthorityRule, ChoiceMenu, Remedy
from amends.remedies.selectors import (
    approval_queue,
    authority_headroom,
    authority_overview,
    authority_rule_list,
    menu_get_for_user,
    menu_list_for_case,
    remedy_get_for_user,
    remedy_list_for_case,
    remedy_report,
)
from amends.remedies.services.matrix import authority_rule_set
from amends.remedies.services.menus import menu_choose, menu_create
from amends.remedies.services.remedies import (
    RemedyInput,
    currency_clean,
    remedy_approve,
    remedy_cancel,
    remedy_issue,
    remedy_kind_clean,
    remedy_propose,
    remedy_reject,
)

router = Router(tags=["remedies"])


# ---- schemas ------------------------------------------------------------------------------


class RemedyProposeIn(InSchema):
    kind: str = Field(min_length=1, max_length=40, description="Remedy kind code, e.g. refund")
    amount: Decimal | None = Field(
        default=None, description='Send as a string ("80.00"); omit for non-monetary kinds'
    )
    currency: str = Field(default="", max_length=3, description="ISO 4217, e.g. USD")
    description: str = Field(default="", max_length=500)
    reason: str = Field(min_length=1, max_length=5_000)


class RemedyOut(Schema):
    id: int
    case: str
    kind: str
    amount: Decimal | None
    currency: str
    description: str
    reason: str
    status: str
    proposed_by: str | None
    approver: str | None
    decision_due_at: datetime | None
    escalation_level: int
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str
    issue_reference: str
    issued_at: datetime | None
    cancel_reason: str
    menu_id: int | None
    created_at: datetime


class DecisionIn(InSchema):
    reason: str = Field(default="", max_length=5_000)


class RejectIn(InSchema):
    reason: str = Field(min_length=1, max_length=5_000)


class IssueIn(InSchema):
    reference: str = Field(min_length=1, max_length=100, description="e.g. the credit-note number")


class CancelIn(InSchema):
    reason: str = Field(min_length=1, max_length=5_000)


class ApprovalQuery(InSchema):
    page: int = Field(default=1, ge=1, le=100_000)
    size: int = Field(default=25, ge=1, le=200)


class MenuOptionIn(InSchema):
    kind: str = Field(min_length=1, max_length=40)
    amount: Decimal | None = None
    currency: str = Field(default="", max_length=3)
    description: str = Field(default="", max_length=500)


class MenuCreateIn(InSchema):
    options: list[MenuOptionIn] = Field(min_length=2, max_length=6)
    note: str = Field(default="", max_length=5_000)


class MenuChooseIn(InSchema):
    remedy_id: int


class MenuOut(Schema):
    id: int
    case: str
    status: str
    note: str
    created_by: str | None
    chosen_id: int | None
    chosen_by: str | None
    chosen_at: datetime | None
    options: list[RemedyOut]


class LimitOut(Schema):
    kind: str
    kind_name: str
    monetary: bool
    source: str = Field(description="person, role or none (no rule: not allowed)")
    allowed: bool
    max_per_remedy: Decimal | None
    max_per_case: Decimal | None
    max_per_customer: Decimal | None
    period_days: int | None
    used: list[dict[str, Any]] = Field(
        description="What you proposed (granted, pending, approved or issued) per currency"
    )


class AuthorityOut(Schema):
    username: str
    role: str
    window_days: int
    limits: list[LimitOut]
    cannot_do: list[str]


class HeadroomOut(Schema):
    kind: str
    currency: str
    allowed: bool
    remaining: Decimal | None = Field(description="null: no amount limit applies")


class ReportQuery(InSchema):
    since: datetime | None = Field(default=None, description="Default: 365 days ago")
    until: datetime | None = Field(default=None, description="Default: now")


class ReportOut(Schema):
    since: datetime
    until: datetime
    team: str | None
    by_category: list[dict[str, Any]]
    by_team: list[dict[str, Any]]
    by_month: list[dict[str, Any]]
    within_authority: int
    needed_approval: int
    share_within_authority: float | None
    median_decision_seconds: float | None
    decided: int


def remedy_out(r: Remedy) -> dict[str, Any]:
    return {
        "id": r.pk,
        "case": r.case.ref,
        "kind": r.kind.code,
        "amount": r.amount,
        "currency": r.currency,
        "description": r.description,
        "reason": r.reason,
        "status": r.status,
        "proposed_by": r.proposed_by.username if r.proposed_by else None,
        "approver": r.approver.username if r.approver else None,
        "decision_due_at": r.decision_due_at,
        "escalation_level": r.escalation_level,
        "decided_by": r.decided_by.username if r.decided_by else None,
        "decided_at": r.decided_at,
        "decision_reason": r.decision_reason,
        "issue_reference": r.issue_reference,
        "issued_at": r.issued_at,
        "cancel_reason": r.cancel_reason,
        "menu_id": r.menu_id,
        "created_at": r.created_at,
    }


def menu_out(menu: ChoiceMenu) -> dict[str, Any]:
    return {
        "id": menu.pk,
        "case": menu.case.ref,
        "status": menu.status,
        "note": menu.note,
        "created_by": menu.created_by.username if menu.created_by else None,
        "chosen_id": menu.chosen_id,
        "chosen_by": menu.chosen_by.username if menu.chosen_by else None,
        "chosen_at": menu.chosen_at,
        "options": [remedy_out(o) for o in menu.options.all()],
    }


def _reload(request: AuthedRequest, remedy: Remedy) -> dict[str, Any]:
    return remedy_out(remedy_get_for_user(remedy_id=remedy.pk, user=request.user))


# ---- remedies on a case -------------------------------------------------------------------


@router.post(
    "/cases/{ref}/remedies",
    response={201: RemedyOut, **ERRORS},
    summary="Propose a remedy: granted within your authority, else routed for approval",
)
def remedy_propose_endpoint(
    request: AuthedRequest, ref: str, payload: RemedyProposeIn
) -> Status[dict[str, Any]]:
    case = case_get_for_user(ref=ref, user=request.user)
    remedy = remedy_propose(
        case=case,
        kind=payload.kind,
        amount=payload.amount,
        currency=payload.currency,
        description=payload.description,
        reason=payload.reason,
        actor=request.user,
    )
    remedy.case = case
    return Status(201, remedy_out(remedy))


@router.get(
    "/cases/{ref}/remedies", response={200: list[RemedyOut], **ERRORS}, summary="A case's remedies"
)
def remedy_list_endpoint(request: AuthedRequest, ref: str) -> list[dict[str, Any]]:
    case = case_get_for_user(ref=ref, user=request.user)
    remedies = remedy_list_for_case(case=case)
    for r in remedies:
        r.case = case
    return [remedy_out(r) for r in remedies]


@router.get(
    "/cases/{ref}/remedies/headroom",
    response={200: HeadroomOut, **ERRORS},
    summary="How much you can still grant on this case for a kind, without approval",
)
def remedy_headroom_endpoint(
    request: AuthedRequest, ref: str, kind: str, currency: str = "USD"
) -> dict[str, Any]:
    case = case_get_for_user(ref=ref, user=request.user)
    kind_row = remedy_kind_clean(kind)
    currency = currency_clean(currency)
    room = authority_headroom(user=request.user, case=case, kind=kind_row, currency=currency)
    return {
        "kind": kind_row.code,
        "currency": currency,
        "allowed": room.limits.allowed,
        "remaining": room.remaining,
    }


@router.get("/remedies/{remedy_id}", response={200: RemedyOut, **ERRORS}, summary="A remedy")
def remedy_get_endpoint(request: AuthedRequest, remedy_id: int) -> dict[str, Any]:
    return remedy_out(remedy_get_for_user(remedy_id=remedy_id, user=request.user))


@router.post(
    "/remedies/{remedy_id}/issue",
    response={200: RemedyOut, **ERRORS},
    summary="Record that a granted/approved remedy was issued",
)
def remedy_issue_endpoint(
    request: AuthedRequest, remedy_id: int, payload: IssueIn
) -> dict[str, Any]:
    remedy = remedy_get_for_user(remedy_id=remedy_id, user=request.user)
    return _reload(
        request, remedy_issue(remedy=remedy, reference=payload.reference, actor=request.user)
    )


@router.post(
    "/remedies/{remedy_id}/cancel", response={200: RemedyOut, **ERRORS}, summary="Cancel a remedy"
)
def remedy_cancel_endpoint(
    request: AuthedRequest, remedy_id: int, payload: CancelIn
) -> dict[str, Any]:
    remedy = remedy_get_for_user(remedy_id=remedy_id, user=request.user)
    return _reload(request, remedy_cancel(remedy=remedy, reason=payload.reason, actor=request.user))


# ---- approvals ----------------------------------------------------------------------------


@router.get(
    "/approvals",
    response={200: PageOut[RemedyOut], **ERRORS},
    summary="Remedies waiting for my decision, soonest due first",
)
def approval_list_endpoint(request: AuthedRequest, query: Query[ApprovalQuery]) -> dict[str, Any]:
    page = paginate(approval_queue(user=request.user), page=query.page, size=query.size)
    return {
        "items": [remedy_out(r) for r in page.items],
        "page": page.page,
        "size": page.size,
        "has_next": page.has_next,
    }


@router.post(
    "/approvals/{remedy_id}/approve",
    response={200: RemedyOut, **ERRORS},
    summary="Approve (your own authority must cover it)",
)
def remedy_approve_endpoint(
    request: AuthedRequest, remedy_id: int, payload: DecisionIn
) -> dict[str, Any]:
    remedy = remedy_get_for_user(remedy_id=remedy_id, user=request.user)
    return _reload(
        request, remedy_approve(remedy=remedy, reason=payload.reason, actor=request.user)
    )


@router.post(
    "/approvals/{remedy_id}/reject",
    response={200: RemedyOut, **ERRORS},
    summary="Reject, with a reason",
)
def remedy_reject_endpoint(
    request: AuthedRequest, remedy_id: int, payload: RejectIn
) -> dict[str, Any]:
    remedy = remedy_get_for_user(remedy_id=remedy_id, user=request.user)
    return _reload(request, remedy_reject(remedy=remedy, reason=payload.reason, actor=request.user))


# ---- choice menus -------------------------------------------------------------------------


@router.post(
    "/cases/{ref}/remedy-menus",
    response={201: MenuOut, **ERRORS},
    summary="Offer the customer a choice of remedies",
)
def menu_create_endpoint(
    request: AuthedRequest, ref: str, payload: MenuCreateIn
) -> Status[dict[str, Any]]:
    case = case_get_for_user(ref=ref, user=request.user)
    menu = menu_create(
        case=case,
        options=[
            RemedyInput(
                kind=o.kind, amount=o.amount, currency=o.currency, description=o.description
            )
            for o in payload.options
        ],
        note=payload.note,
        actor=request.user,
    )
    return Status(201, menu_out(menu_get_for_user(menu_id=menu.pk, user=request.user)))


@router.get(
    "/cases/{ref}/remedy-menus", response={200: list[MenuOut], **ERRORS}, summary="A case's menus"
)
def menu_list_endpoint(request: AuthedRequest, ref: str) -> list[dict[str, Any]]:
    case = case_get_for_user(ref=ref, user=request.user)
    menus = menu_list_for_case(case=case)
    for m in menus:
        m.case = case
        for o in m.options.all():
            o.case = case
    return [menu_out(m) for m in menus]


@router.post(
    "/remedy-menus/{menu_id}/choose",
    response={200: RemedyOut, **ERRORS},
    summary="Pick one option on the customer's behalf",
)
def menu_choose_endpoint(
    request: AuthedRequest, menu_id: int, payload: MenuChooseIn
) -> dict[str, Any]:
    menu = menu_get_for_user(menu_id=menu_id, user=request.user)
    chosen = menu_choose(menu=menu, remedy_id=payload.remedy_id, actor=request.user)
    return _reload(request, chosen)


class AuthorityRuleOut(Schema):
    id: int
    role: str
    user: str | None
    kind: str
    allowed: bool
    max_per_remedy: Decimal | None
    max_per_case: Decimal | None
    max_per_customer: Decimal | None
    period_days: int | None


class AuthorityRuleIn(InSchema):
    role: str | None = Field(default=None, description="agent, supervisor, manager or admin")
    user: str | None = Field(default=None, description="Username: a personal rule")
    kind: str = Field(min_length=1, max_length=40)
    allowed: bool = True
    max_per_remedy: Decimal | None = None
    max_per_case: Decimal | None = None
    max_per_customer: Decimal | None = None
    period_days: int | None = Field(default=None, ge=1, le=3650)


class AuthorityRuleQuery(InSchema):
    role: str | None = None
    user: str | None = Field(default=None, description="Username: that person's rules and role's")


def _rule_out(rule: AuthorityRule) -> dict[str, Any]:
    return {
        "id": rule.pk,
        "role": rule.role,
        "user": rule.user.username if rule.user else None,
        "kind": rule.kind.code,
        "allowed": rule.allowed,
        "max_per_remedy": rule.max_per_remedy,
        "max_per_case": rule.max_per_case,
        "max_per_customer": rule.max_per_customer,
        "period_days": rule.period_days,
    }


@router.get(
    "/authority/rules",
    response={200: list[AuthorityRuleOut], **ERRORS},
    summary="The authority matrix (all rules, a role's, or those applying to a person)",
)
def authority_rule_list_endpoint(
    request: AuthedRequest, query: Query[AuthorityRuleQuery]
) -> list[dict[str, Any]]:
    staff_profile_of(user=request.user)
    user = staff_get_by_username(username=query.user) if query.user else None
    rules = authority_rule_list(role=query.role, user=user, viewer=request.user)
    return [_rule_out(r) for r in rules]


@router.put(
    "/authority/rules",
    response={200: AuthorityRuleOut, **ERRORS},
    summary="Create or replace one rule (admins only)",
)
def authority_rule_set_endpoint(request: AuthedRequest, payload: AuthorityRuleIn) -> dict[str, Any]:
    if staff_profile_of(user=request.user).role != Role.ADMIN:
        raise PermissionDeniedError("Only admins change the authority matrix.")
    rule = authority_rule_set(
        kind=payload.kind,
        role=payload.role,
        user=staff_get_by_username(username=payload.user) if payload.user else None,
        allowed=payload.allowed,
        max_per_remedy=payload.max_per_remedy,
        max_per_case=payload.max_per_case,
        max_per_customer=payload.max_per_customer,
        period_days=payload.period_days,
        actor=request.user,
        source="api",
    )
    return _rule_out(rule)


# ---- authority and reports ----------------------------------------------------------------


@router.get(
    "/me/authority",
    response={200: AuthorityOut, **ERRORS},
    summary="My limits per remedy kind, what I have used, and what I can never do",
)
def authority_mine_endpoint(request: AuthedRequest) -> dict[str, Any]:
    overview = authority_overview(user=request.user)
    return {
        "username": request.user.username,
        "role": overview.role,
        "window_days": overview.window_days,
        "limits": [
            {
                "kind": k.kind.code,
                "kind_name": k.kind.name,
                "monetary": k.kind.monetary,
                "source": k.limits.source,
                "allowed": k.limits.allowed,
                "max_per_remedy": k.limits.max_per_remedy,
                "max_per_case": k.limits.max_per_case,
                "max_per_customer": k.limits.max_per_customer,
                "period_days": k.limits.period_days,
                "used": [
                    {"currency": u["currency"], "total": _money(u["total"]), "count": u["count"]}
                    for u in k.used
                ],
            }
            for k in overview.kinds
        ],
        "cannot_do": overview.cannot_do,
    }


def _money(value: Decimal) -> str:
    """Sums come back from SQLite without their scale; money always has two decimals."""
    return str(value.quantize(Decimal("0.01")))


def _json_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        clean = {}
        for key, value in row.items():
            if isinstance(value, Decimal):
                clean[key] = _money(value)
            elif isinstance(value, datetime):
                clean[key] = value.date().isoformat()
            else:
                clean[key] = value
        out.append(clean)
    return out


@router.get(
    "/reports/remedies",
    response={200: ReportOut, **ERRORS},
    summary="Remedy cost per category, team and month; authority share; median decision time",
)
def remedy_report_endpoint(request: AuthedRequest, query: Query[ReportQuery]) -> dict[str, Any]:
    until = query.until or timezone.now()
    since = query.since or until - timedelta(days=365)
    if until.tzinfo is None:
        until = until.replace(tzinfo=UTC)
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    report = remedy_report(user=request.user, since=since, until=until)
    return {
        "since": report.since,
        "until": report.until,
        "team": report.team,
        "by_category": _json_rows(report.by_category),
        "by_team": _json_rows(report.by_team),
        "by_month": _json_rows(report.by_month),
        "within_authority": report.within_authority,
        "needed_approval": report.needed_approval,
        "share_within_authority": report.share_within_authority,
        "median_decision_seconds": report.median_decision_seconds,
        "decided": report.decided,
    }

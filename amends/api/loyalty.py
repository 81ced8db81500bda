"""Loyalty and analytics: `GET /api/v1/analytics/...` for every figure, with the same filters,
and the loyalty actions (status moves, win-back campaigns)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.http import HttpResponse
from ninja import Query, Router, Schema, Status
from pydantic import Field

from amends.accounts.selectors import staff_profile_of
from amends.api.schemas import ERRORS, Id, InSchema, PageOut
from amends.cases.models import case_ref
from amends.core.exceptions import PermissionDeniedError
from amends.core.pagination import paginate
from amends.core.types import AuthedRequest
from amends.customers.selectors import customer_get_for_user
from amends.loyalty.exports import (
    MTBF_COLUMNS,
    OPERATIONS_COLUMNS,
    OVERVIEW_COLUMNS,
    PARADOX_COLUMNS,
    overview_rows,
    paradox_rows,
    rows_csv,
)
from amends.loyalty.models import Campaign, CampaignTarget
from amends.loyalty.selectors import (
    AnalyticsFilters,
    analytics_allowed,
    analytics_filters_clean,
    analytics_overview,
    analytics_scope,
    at_risk_list,
    campaign_get,
    campaign_results,
    campaign_target_get,
    customer_risk_get,
    drill_case_list,
    mtbf_report,
    operations_report,
    recovery_paradox,
)
from amends.loyalty.services.campaigns import (
    campaign_create,
    campaign_launch,
    campaign_target_accept,
    campaign_target_respond,
)
from amends.loyalty.services.status import loyalty_status_change

router = Router(tags=["loyalty"])


class AnalyticsQuery(InSchema):
    since: date | None = Field(default=None, description="First day (default: 90 days ago)")
    until: date | None = Field(default=None, description="Last day, inclusive (default: today)")
    team: Id | None = None
    category: Id | None = None
    service: Id | None = None
    format: str = Field(default="json", pattern="^(json|csv)$", description="json or csv")


def _filters(request: AuthedRequest, query: AnalyticsQuery) -> AnalyticsFilters:
    filters = analytics_filters_clean(
        since=query.since,
        until=query.until,
        team_id=query.team,
        category_id=query.category,
        service_id=query.service,
    )
    return analytics_scope(user=request.user, filters=filters)


def _campaigns_allowed(request: AuthedRequest) -> None:
    """Win-back campaigns are for supervisors, managers and admins, as on the web pages."""
    if not analytics_allowed(user=request.user):
        raise PermissionDeniedError("Win-back campaigns are for supervisors and managers.")


def _csv(name: str, body: str) -> HttpResponse:
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


class FiltersOut(Schema):
    since: date
    until: date
    team_id: int | None
    category_id: int | None
    service_id: int | None


class WeekOut(Schema):
    week: date
    opened: int
    resolved: int
    sla_pct: float | None
    promises_kept_pct: float | None
    cost: Decimal
    csat_avg: float | None
    csat_count: int
    fair_outcome_avg: float | None
    fair_outcome_count: int
    fair_process_avg: float | None
    fair_process_count: int
    fair_treatment_avg: float | None
    fair_treatment_count: int


class RootCauseCountOut(Schema):
    root_cause_id: int
    root_cause: str
    failures: int
    cost: Decimal


class OverviewOut(Schema):
    filters: FiltersOut
    weeks: list[WeekOut]
    totals: WeekOut
    at_risk_customers: int
    root_causes: list[RootCauseCountOut]
    retention_cost: Decimal | None = Field(
        description="Win-back offers accepted in the period: a retention cost, not part of the "
        "remedies' recovery cost (`cost`); null when a team, category or service is chosen."
    )


@router.get(
    "/analytics/overview",
    response={200: OverviewOut, **ERRORS},
    summary="Manager overview: cases opened and resolved per week, SLA, promises, cost, CSAT",
)
def analytics_overview_endpoint(request: AuthedRequest, query: Query[AnalyticsQuery]) -> Any:
    overview = analytics_overview(filters=_filters(request, query))
    if query.format == "csv":
        return _csv("overview", rows_csv(overview_rows(overview), OVERVIEW_COLUMNS))
    return overview


class OperationsRowOut(Schema):
    root_cause_id: int | None
    root_cause: str
    service_id: int | None
    service: str
    category_id: int | None
    category: str
    failures: int
    customers_hurt: int
    repeat_failures: int
    cost: Decimal
    severity_weight: float
    incidents: int
    priority: float


@router.get(
    "/analytics/operations",
    response={200: list[OperationsRowOut], **ERRORS},
    summary="Operations report: what to fix first (customers hurt x severity x cost)",
)
def operations_report_endpoint(request: AuthedRequest, query: Query[AnalyticsQuery]) -> Any:
    rows = operations_report(filters=_filters(request, query))
    if query.format == "csv":
        return _csv("operations-report", rows_csv(rows, OPERATIONS_COLUMNS))
    return rows


class MtbfRowOut(Schema):
    service_id: int | None
    service: str
    category_id: int | None
    category: str
    failures: int
    first_failure: datetime
    last_failure: datetime
    mtbf_hours: float
    mean_gap_hours: float | None


@router.get(
    "/analytics/mtbf",
    response={200: list[MtbfRowOut], **ERRORS},
    summary="Mean time between failures per service and category",
)
def mtbf_report_endpoint(request: AuthedRequest, query: Query[AnalyticsQuery]) -> Any:
    rows = mtbf_report(filters=_filters(request, query))
    if query.format == "csv":
        return _csv("mtbf", rows_csv(rows, MTBF_COLUMNS))
    return rows


class ParadoxQuery(AnalyticsQuery):
    retention_days: int = Field(default=90, ge=1, le=3650)


@router.get(
    "/analytics/paradox",
    response={200: dict[str, Any], **ERRORS},
    summary="Recovery paradox: recovered against never-failed customers, with 95% intervals",
)
def recovery_paradox_endpoint(request: AuthedRequest, query: Query[ParadoxQuery]) -> Any:
    report = recovery_paradox(filters=_filters(request, query), retention_days=query.retention_days)
    if query.format == "csv":
        return _csv("recovery-paradox", rows_csv(paradox_rows(report), PARADOX_COLUMNS))
    return report


class AtRiskQuery(InSchema):
    min_score: int = Field(default=0, ge=0, le=100)
    page: int = Field(default=1, ge=1, le=100_000)
    size: int = Field(default=25, ge=1, le=200)


class RiskFactorOut(Schema):
    factor: str
    label: str
    value: int
    points: int


class CustomerRiskOut(Schema):
    customer_id: int
    customer: str
    tier: str
    loyalty_status: str
    risk_score: int
    factors: list[RiskFactorOut]
    computed_at: datetime | None


def _risk_out(risk: Any) -> dict[str, Any]:
    return {
        "customer_id": risk.customer_id,
        "customer": risk.customer.name,
        "tier": risk.customer.tier,
        "loyalty_status": risk.customer.loyalty_status,
        "risk_score": risk.score,
        "factors": risk.breakdown,
        "computed_at": risk.computed_at,
    }


@router.get(
    "/analytics/at-risk",
    response={200: PageOut[CustomerRiskOut], **ERRORS},
    summary="At-risk customers, highest risk then most valuable first",
)
def at_risk_list_endpoint(request: AuthedRequest, query: Query[AtRiskQuery]) -> dict[str, Any]:
    analytics_scope(user=request.user, filters=analytics_filters_clean())
    page = paginate(
        at_risk_list(user=request.user, min_score=query.min_score), page=query.page, size=query.size
    )
    return {
        "items": [_risk_out(r) for r in page.items],
        "page": page.page,
        "size": page.size,
        "has_next": page.has_next,
    }


class DrillQuery(AnalyticsQuery):
    metric: str = Field(default="opened", max_length=30)
    root_cause: Id | None = None
    page: int = Field(default=1, ge=1, le=100_000)
    size: int = Field(default=25, ge=1, le=200)


class DrillCaseOut(Schema):
    ref: str
    title: str
    status: str
    severity: int
    customer_id: int
    created_at: datetime


@router.get(
    "/analytics/cases",
    response={200: PageOut[DrillCaseOut], **ERRORS},
    summary="The cases behind a figure (drill-down), with the report's filters",
)
def drill_case_list_endpoint(request: AuthedRequest, query: Query[DrillQuery]) -> dict[str, Any]:
    qs = drill_case_list(
        user=request.user,
        filters=_filters(request, query),
        metric=query.metric,
        root_cause_id=query.root_cause,
    )
    page = paginate(qs, page=query.page, size=query.size)
    return {
        "items": [
            {
                "ref": case_ref(c.pk),
                "title": c.title,
                "status": c.status,
                "severity": c.severity,
                "customer_id": c.customer_id,
                "created_at": c.created_at,
            }
            for c in page.items
        ],
        "page": page.page,
        "size": page.size,
        "has_next": page.has_next,
    }


@router.get(
    "/loyalty/customers/{int:customer_id}/risk",
    response={200: CustomerRiskOut, **ERRORS},
    summary="A customer's risk score and the factors behind it",
)
def customer_risk_get_endpoint(request: AuthedRequest, customer_id: Id) -> Any:
    staff_profile_of(user=request.user)
    customer = customer_get_for_user(customer_id=customer_id, user=request.user)
    risk = customer_risk_get(customer_id=customer.pk)
    return {
        "customer_id": customer.pk,
        "customer": customer.name,
        "tier": customer.tier,
        "loyalty_status": customer.loyalty_status,
        "risk_score": risk.score if risk else 0,
        "factors": risk.breakdown if risk else [],
        "computed_at": risk.computed_at if risk else None,
    }


class LoyaltyStatusIn(InSchema):
    status: str = Field(pattern="^(active|at_risk|lost|won_back)$")
    reason: str = Field(min_length=1, max_length=200)


@router.post(
    "/loyalty/customers/{int:customer_id}/status",
    response={200: CustomerRiskOut, **ERRORS},
    summary="Move a customer to active, at risk, lost or won back (with a reason)",
)
def loyalty_status_change_endpoint(
    request: AuthedRequest, customer_id: Id, payload: LoyaltyStatusIn
) -> Any:
    staff_profile_of(user=request.user)
    customer = customer_get_for_user(customer_id=customer_id, user=request.user)
    risk = loyalty_status_change(
        customer=customer, status=payload.status, reason=payload.reason, actor=request.user
    )
    risk.customer.refresh_from_db()
    return _risk_out(risk)


class CampaignCreateIn(InSchema):
    name: str = Field(min_length=1, max_length=200)
    lost_reason: str = Field(default="", max_length=200)
    category: Id | None = None
    lost_since: date | None = None
    lost_until: date | None = None
    remedy_kind: str = Field(min_length=1, max_length=40)
    amount: Decimal | None = Field(default=None, description='As a string, e.g. "20.00"')
    currency: str = Field(default="", max_length=3)
    budget: Decimal = Field(ge=0, le=Decimal("1000000000000"))
    subject: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=20_000)


class CampaignOut(Schema):
    id: int
    name: str
    status: str
    remedy_kind: str
    amount: Decimal | None
    currency: str
    budget: Decimal
    launched_at: datetime | None
    results: dict[str, Any]


def _campaign_out(campaign: Campaign) -> dict[str, Any]:
    results = campaign_results(campaign=campaign)
    return {
        "id": campaign.pk,
        "name": campaign.name,
        "status": campaign.status,
        "remedy_kind": campaign.remedy_kind.code,
        "amount": campaign.amount,
        "currency": campaign.currency,
        "budget": campaign.budget,
        "launched_at": campaign.launched_at,
        "results": {k: str(v) if isinstance(v, Decimal) else v for k, v in results.items()},
    }


@router.post(
    "/loyalty/campaigns",
    response={201: CampaignOut, **ERRORS},
    summary="Create a win-back campaign for lost customers matching filters",
)
def campaign_create_endpoint(request: AuthedRequest, payload: CampaignCreateIn) -> Any:
    _campaigns_allowed(request)
    campaign = campaign_create(
        name=payload.name,
        lost_reason=payload.lost_reason,
        category_id=payload.category,
        lost_since=payload.lost_since,
        lost_until=payload.lost_until,
        remedy_kind=payload.remedy_kind,
        amount=payload.amount,
        currency=payload.currency,
        budget=payload.budget,
        subject=payload.subject,
        body=payload.body,
        actor=request.user,
    )
    return Status(201, _campaign_out(campaign))


@router.get(
    "/loyalty/campaigns/{int:campaign_id}",
    response={200: CampaignOut, **ERRORS},
    summary="A win-back campaign and its results",
)
def campaign_get_endpoint(request: AuthedRequest, campaign_id: Id) -> Any:
    _campaigns_allowed(request)
    return _campaign_out(campaign_get(campaign_id=campaign_id))


@router.post(
    "/loyalty/campaigns/{int:campaign_id}/launch",
    response={200: CampaignOut, **ERRORS},
    summary="Send the campaign's message to its customers",
)
def campaign_launch_endpoint(request: AuthedRequest, campaign_id: Id) -> Any:
    _campaigns_allowed(request)
    campaign = campaign_get(campaign_id=campaign_id)
    campaign_launch(campaign=campaign, actor=request.user)
    return _campaign_out(campaign_get(campaign_id=campaign_id))


class TargetActionIn(InSchema):
    action: str = Field(pattern="^(respond|accept)$")


class TargetOut(Schema):
    id: int
    customer_id: int
    contacted_at: datetime | None
    responded_at: datetime | None
    accepted_at: datetime | None
    won_back_at: datetime | None
    cost: Decimal


@router.post(
    "/loyalty/campaigns/{int:campaign_id}/customers/{int:customer_id}",
    response={200: TargetOut, **ERRORS},
    summary="Record a customer's answer to the offer: responded, or accepted (won back)",
)
def campaign_target_action_endpoint(
    request: AuthedRequest, campaign_id: Id, customer_id: Id, payload: TargetActionIn
) -> CampaignTarget:
    _campaigns_allowed(request)
    target = campaign_target_get(campaign_id=campaign_id, customer_id=customer_id)
    if payload.action == "respond":
        return campaign_target_respond(target=target, actor=request.user)
    return campaign_target_accept(target=target, actor=request.user)

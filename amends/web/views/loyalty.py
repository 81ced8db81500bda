"""Loyalty pages: dashboard with charts, operations report and MTBF, recovery paradox,
at-risk customers, drill-down to cases, win-back campaigns, cancellations upload."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from amends.accounts.selectors import team_list
from amends.core.exceptions import ApplicationError
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
from amends.loyalty.selectors import (
    AnalyticsFilters,
    analytics_allowed,
    analytics_filters_clean,
    analytics_overview,
    analytics_scope,
    at_risk_list,
    campaign_get,
    campaign_list,
    campaign_results,
    campaign_target_get,
    campaign_target_list,
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
from amends.loyalty.services.status import cancellations_import, loyalty_status_change
from amends.remedies.selectors import remedy_kind_list
from amends.taxonomy.selectors import category_list, service_list
from amends.web.decorators import staff_required
from amends.web.forms.common import valid
from amends.web.forms.loyalty import (
    AnalyticsFilterForm,
    CampaignForm,
    CancellationsForm,
    DrillForm,
    LoyaltyStatusForm,
    ParadoxForm,
)

CSS = "web/loyalty/loyalty.css"


def _allowed(request: AuthedRequest) -> None:
    if not analytics_allowed(user=request.user):
        raise PermissionDenied("Loyalty analytics are for supervisors and managers.")


def _filters(request: AuthedRequest, form: AnalyticsFilterForm) -> tuple[AnalyticsFilters, str]:
    """The filters from the query string, or the default period with the reason it was refused."""
    _allowed(request)
    error = ""
    data: dict[str, Any] = {}
    if form.is_valid():
        data = form.cleaned_data
    elif form.is_bound:
        error = "Some filters were not valid and were ignored: " + "; ".join(
            f"{k}: {' '.join(str(e) for e in v)}" for k, v in form.errors.items()
        )
    try:
        filters = analytics_filters_clean(
            since=data.get("since"),
            until=data.get("until"),
            team_id=data.get("team"),
            category_id=data.get("category"),
            service_id=data.get("service"),
        )
    except ApplicationError as exc:
        error = exc.message
        filters = analytics_filters_clean()
    return analytics_scope(user=request.user, filters=filters), error


def _choices() -> dict[str, Any]:
    return {
        "teams": list(team_list()),
        "categories": list(category_list(active_only=False).select_related("parent")),
        "services": list(service_list(active_only=False)),
    }


def _csv(name: str, body: str) -> HttpResponse:
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


def _drill_url(filters: AnalyticsFilters, metric: str, **extra: Any) -> str:
    query = {**filters.as_query(), "metric": metric, **{k: v for k, v in extra.items() if v}}
    return reverse("web:loyalty-cases") + "?" + urlencode(query)


def _week_filters(filters: AnalyticsFilters, week: date) -> AnalyticsFilters:
    since = max(week, filters.since)
    until = min(week + timedelta(days=6), filters.until)
    return AnalyticsFilters(since, until, filters.team_id, filters.category_id, filters.service_id)


def _num(value: Any) -> Any:
    return float(value) if isinstance(value, Decimal) else value


@staff_required
@require_GET
def loyalty_dashboard_view(request: AuthedRequest) -> HttpResponse:
    form = AnalyticsFilterForm(request.GET or None)
    filters, error = _filters(request, form)
    overview = analytics_overview(filters=filters)
    if request.GET.get("format") == "csv":
        return _csv("overview", rows_csv(overview_rows(overview), OVERVIEW_COLUMNS))
    labels = [w.week.isoformat() for w in overview.weeks]
    week_drill = {
        metric: [_drill_url(_week_filters(filters, w.week), metric) for w in overview.weeks]
        for metric in ("opened", "resolved", "sla_missed", "promises_broken", "cost")
    }
    charts = [
        {
            "id": "chart-volume",
            "title": "Cases opened and resolved per week",
            "type": "bar",
            "labels": labels,
            "series": [
                {"label": "Opened", "data": [w.opened for w in overview.weeks]},
                {"label": "Resolved", "data": [w.resolved for w in overview.weeks]},
            ],
            "drill": [week_drill["opened"], week_drill["resolved"]],
        },
        {
            "id": "chart-sla",
            "title": "SLA met and promises kept (%) per week",
            "type": "line",
            "labels": labels,
            "series": [
                {"label": "Resolved within SLA %", "data": [w.sla_pct for w in overview.weeks]},
                {"label": "Promises kept %", "data": [w.promises_kept_pct for w in overview.weeks]},
            ],
            "drill": [week_drill["sla_missed"], week_drill["promises_broken"]],
        },
        {
            "id": "chart-cost",
            "title": "Remedy cost and CSAT per week",
            "type": "line",
            "labels": labels,
            "series": [
                {"label": "Remedy cost", "data": [_num(w.cost) for w in overview.weeks]},
                {"label": "CSAT (1-5)", "data": [w.csat_avg for w in overview.weeks]},
            ],
            "drill": [week_drill["cost"], week_drill["opened"]],
        },
        {
            "id": "chart-fairness",
            "title": "Fairness answers (1-5) per week",
            "type": "line",
            "labels": labels,
            "series": [
                {"label": "Fair outcome", "data": [w.fair_outcome_avg for w in overview.weeks]},
                {"label": "Fair process", "data": [w.fair_process_avg for w in overview.weeks]},
                {
                    "label": "Fair treatment",
                    "data": [w.fair_treatment_avg for w in overview.weeks],
                },
            ],
            "drill": [week_drill["opened"], week_drill["opened"], week_drill["opened"]],
        },
        {
            "id": "chart-causes",
            "title": "Top root causes (failures)",
            "type": "bar",
            "labels": [c["root_cause"] for c in overview.root_causes],
            "series": [
                {"label": "Failures", "data": [c["failures"] for c in overview.root_causes]}
            ],
            "drill": [
                [
                    _drill_url(filters, "root_cause", root_cause=c["root_cause_id"])
                    for c in overview.root_causes
                ]
            ],
        },
    ]
    for chart in charts:
        chart["json"] = json.dumps(
            {k: chart[k] for k in ("type", "labels", "series", "drill", "title")}
        )
        chart["rows"] = [
            {
                "label": label,
                "cells": [
                    (s["data"][i], d[i])
                    for s, d in zip(chart["series"], chart["drill"], strict=True)
                ],
            }
            for i, label in enumerate(chart["labels"])
        ]
    context = {
        "form": form,
        "filters": filters,
        "error": error,
        "overview": overview,
        "charts": charts,
        "csv_url": "?" + urlencode({**filters.as_query(), "format": "csv"}),
        **_choices(),
    }
    return render(request, "web/loyalty/dashboard.html", context, status=400 if error else 200)


@staff_required
@require_GET
def loyalty_operations_view(request: AuthedRequest) -> HttpResponse:
    form = AnalyticsFilterForm(request.GET or None)
    filters, error = _filters(request, form)
    export = request.GET.get("format")
    if export == "csv":
        return _csv(
            "operations-report", rows_csv(operations_report(filters=filters), OPERATIONS_COLUMNS)
        )
    if export == "mtbf-csv":
        return _csv("mtbf", rows_csv(mtbf_report(filters=filters), MTBF_COLUMNS))
    rows = operations_report(filters=filters)
    for row in rows:
        row["drill"] = _drill_url(
            AnalyticsFilters(
                filters.since,
                filters.until,
                filters.team_id,
                row["category_id"] or filters.category_id,
                row["service_id"] or filters.service_id,
            ),
            "root_cause" if row["root_cause_id"] else "opened",
            root_cause=row["root_cause_id"],
        )
    query = filters.as_query()
    context = {
        "form": form,
        "filters": filters,
        "error": error,
        "rows": rows,
        "mtbf": mtbf_report(filters=filters),
        "csv_url": "?" + urlencode({**query, "format": "csv"}),
        "mtbf_csv_url": "?" + urlencode({**query, "format": "mtbf-csv"}),
        **_choices(),
    }
    return render(request, "web/loyalty/operations.html", context, status=400 if error else 200)


@staff_required
@require_GET
def loyalty_paradox_view(request: AuthedRequest) -> HttpResponse:
    form = ParadoxForm(request.GET or None)
    filters, error = _filters(request, form)
    retention_days = (form.cleaned_data.get("retention_days") if form.is_valid() else None) or 90
    report = recovery_paradox(filters=filters, retention_days=retention_days)
    rows = paradox_rows(report)
    if request.GET.get("format") == "csv":
        return _csv("recovery-paradox", rows_csv(rows, PARADOX_COLUMNS))
    context = {
        "form": form,
        "filters": filters,
        "error": error,
        "report": report,
        "rows": rows,
        "retention_days": retention_days,
        "csv_url": "?"
        + urlencode({**filters.as_query(), "retention_days": retention_days, "format": "csv"}),
        **_choices(),
    }
    return render(request, "web/loyalty/paradox.html", context, status=400 if error else 200)


@staff_required
@require_GET
def loyalty_at_risk_view(request: AuthedRequest) -> HttpResponse:
    _allowed(request)
    try:
        page_number = max(1, min(100_000, int(request.GET.get("page", "1"))))
    except ValueError:
        page_number = 1
    page = paginate(at_risk_list(user=request.user), page=page_number, size=25)
    return render(
        request, "web/loyalty/at_risk.html", {"page": page, "query": "", "target": "#at-risk"}
    )


@staff_required
@require_GET
def loyalty_cases_view(request: AuthedRequest) -> HttpResponse:
    form = DrillForm(request.GET or None)
    filters, error = _filters(request, form)
    data = form.cleaned_data if form.is_valid() else {}
    metric = data.get("metric") or "opened"
    try:
        qs = drill_case_list(
            user=request.user, filters=filters, metric=metric, root_cause_id=data.get("root_cause")
        )
    except ApplicationError as exc:
        error, metric = exc.message, "opened"
        qs = drill_case_list(user=request.user, filters=filters, metric=metric)
    page = paginate(qs, page=data.get("page") or 1, size=25)
    query = urlencode(
        {**filters.as_query(), "metric": metric}
        | ({"root_cause": data["root_cause"]} if data.get("root_cause") else {})
    )
    context = {
        "page": page,
        "filters": filters,
        "metric": metric,
        "error": error,
        "query": query,
        "target": "#drill-results",
    }
    return render(request, "web/loyalty/cases.html", context, status=400 if error else 200)


@staff_required
@require_POST
def loyalty_status_view(request: AuthedRequest, customer_id: int) -> HttpResponse:
    customer = customer_get_for_user(customer_id=customer_id, user=request.user)
    form = valid(LoyaltyStatusForm(request.POST))
    loyalty_status_change(
        customer=customer,
        status=form.cleaned_data["status"],
        reason=form.cleaned_data["reason"],
        actor=request.user,
    )
    messages.success(request, "Loyalty status changed.")
    return redirect("web:customer-detail", customer_id=customer.pk)


@staff_required
@require_http_methods(["GET", "POST"])
def loyalty_cancellations_view(request: AuthedRequest) -> HttpResponse:
    _allowed(request)
    result = None
    form = CancellationsForm()
    if request.method == "POST":
        form = valid(CancellationsForm(request.POST, request.FILES))
        upload = form.cleaned_data["file"]
        if upload.size > 20 * 1024 * 1024:
            raise ApplicationError(
                "The file is larger than 20 MB.", code="file_too_large", status=413
            )
        result = cancellations_import(data=upload.read(), actor=request.user)
        messages.success(
            request, f"{result.marked} customer(s) marked lost; {result.already_lost} already lost."
        )
    return render(request, "web/loyalty/cancellations.html", {"form": form, "result": result})


@staff_required
@require_http_methods(["GET", "POST"])
def loyalty_campaigns_view(request: AuthedRequest) -> HttpResponse:
    _allowed(request)
    form = CampaignForm()
    if request.method == "POST":
        form = valid(CampaignForm(request.POST))
        data = form.cleaned_data
        campaign = campaign_create(
            name=data["name"],
            lost_reason=data["lost_reason"],
            category_id=data["category"],
            lost_since=data["lost_since"],
            lost_until=data["lost_until"],
            remedy_kind=data["remedy_kind"],
            amount=data["amount"],
            currency=data["currency"],
            budget=data["budget"],
            subject=data["subject"],
            body=data["body"],
            actor=request.user,
        )
        return redirect("web:loyalty-campaign", campaign_id=campaign.pk)
    context = {
        "form": form,
        "campaigns": list(campaign_list()[:50]),
        "kinds": remedy_kind_list(),
        "categories": list(category_list(active_only=False).select_related("parent")),
    }
    return render(request, "web/loyalty/campaigns.html", context)


@staff_required
@require_GET
def loyalty_campaign_view(request: AuthedRequest, campaign_id: int) -> HttpResponse:
    _allowed(request)
    campaign = campaign_get(campaign_id=campaign_id)
    try:
        page_number = max(1, min(100_000, int(request.GET.get("page", "1"))))
    except ValueError:
        page_number = 1
    page = paginate(campaign_target_list(campaign=campaign), page=page_number, size=50)
    context = {
        "campaign": campaign,
        "results": campaign_results(campaign=campaign),
        "page": page,
        "query": "",
        "target": "#campaign-targets",
    }
    return render(request, "web/loyalty/campaign.html", context)


@staff_required
@require_POST
def loyalty_campaign_launch_view(request: AuthedRequest, campaign_id: int) -> HttpResponse:
    _allowed(request)
    queued = campaign_launch(campaign=campaign_get(campaign_id=campaign_id), actor=request.user)
    messages.success(request, f"Campaign launched: {queued} message(s) queued.")
    return redirect("web:loyalty-campaign", campaign_id=campaign_id)


@staff_required
@require_POST
def loyalty_campaign_target_view(
    request: AuthedRequest, campaign_id: int, customer_id: int
) -> HttpResponse:
    _allowed(request)
    target = campaign_target_get(campaign_id=campaign_id, customer_id=customer_id)
    if request.POST.get("action") == "accept":
        campaign_target_accept(target=target, actor=request.user)
        messages.success(request, "Offer accepted: customer won back.")
    else:
        campaign_target_respond(target=target, actor=request.user)
        messages.success(request, "Response recorded.")
    return redirect("web:loyalty-campaign", campaign_id=campaign_id)

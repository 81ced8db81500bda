"""Remedies in the staff UI: the case panel, approvals, my authority and the remedy report.

Business errors raised by services become flash messages in ApplicationErrorMiddleware.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from amends.cases.models import Case
from amends.cases.selectors import case_get_for_user
from amends.core.exceptions import ApplicationError
from amends.core.organisation import organisation_days, organisation_today
from amends.core.pagination import paginate
from amends.core.types import AuthedRequest
from amends.core.validation import WindowDateField
from amends.remedies.models import Remedy
from amends.remedies.selectors import (
    approval_pending_count,
    approval_queue,
    authority_headroom,
    authority_overview,
    case_remedy_panel,
    default_currency,
    menu_get_for_user,
    remedy_get_for_user,
    remedy_report,
)
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
from amends.web.decorators import staff_required
from amends.web.forms.common import valid

MENU_OPTION_ROWS = 3


class ProposeForm(forms.Form):
    kind = forms.CharField(max_length=40)
    amount = forms.CharField(max_length=20, required=False)
    currency = forms.CharField(max_length=3, required=False)
    description = forms.CharField(max_length=500, required=False)
    reason = forms.CharField(max_length=5000)


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=5000, required=False)


class IssueForm(forms.Form):
    reference = forms.CharField(max_length=100)


class ReportForm(forms.Form):
    since = WindowDateField(required=False)
    until = WindowDateField(required=False)


def _panel(
    request: AuthedRequest, case: Case, *, result: Remedy | None = None, changed: bool = False
) -> HttpResponse:
    panel = case_remedy_panel(case=case, user=request.user)
    response = render(
        request,
        "web/remedies/_case_panel.html",
        {"panel": panel, "case": case, "result": result, "request": request},
    )
    if changed:
        # The compensate step, the timeline and the case version may have moved.
        response["HX-Trigger"] = "caseChanged"
    return response


def _after_case_action(request: AuthedRequest, case: Case, result: Remedy | None) -> HttpResponse:
    if request.htmx:
        return _panel(request, case, result=result, changed=True)
    return redirect(reverse("web:case-detail", args=[case.ref]) + "#case-remedies")


# ---- the case panel -----------------------------------------------------------------------


@staff_required
@require_GET
def remedy_panel_view(request: AuthedRequest, ref: str) -> HttpResponse:
    return _panel(request, case_get_for_user(ref=ref, user=request.user))


@staff_required
@require_GET
def remedy_headroom_view(request: AuthedRequest, ref: str) -> HttpResponse:
    """The proposer's remaining limit for the chosen kind, shown before they submit."""
    case = case_get_for_user(ref=ref, user=request.user)
    kind = remedy_kind_clean(request.GET.get("kind", ""))
    currency = currency_clean(request.GET.get("currency", "") or default_currency())
    room = authority_headroom(user=request.user, case=case, kind=kind, currency=currency)
    return render(request, "web/remedies/_headroom.html", {"headroom": room})


@staff_required
@require_POST
def remedy_propose_view(request: AuthedRequest, ref: str) -> HttpResponse:
    case = case_get_for_user(ref=ref, user=request.user)
    form = valid(ProposeForm(request.POST))
    data = form.cleaned_data
    remedy = remedy_propose(
        case=case,
        kind=data["kind"],
        amount=data["amount"] or None,
        currency=data["currency"] if data["amount"] else "",
        description=data["description"],
        reason=data["reason"],
        actor=request.user,
    )
    return _after_case_action(request, case, remedy)


@staff_required
@require_POST
def remedy_issue_view(request: AuthedRequest, remedy_id: int) -> HttpResponse:
    remedy = remedy_get_for_user(remedy_id=remedy_id, user=request.user)
    form = valid(IssueForm(request.POST))
    remedy = remedy_issue(
        remedy=remedy, reference=form.cleaned_data["reference"], actor=request.user
    )
    return _after_case_action(request, remedy.case, None)


@staff_required
@require_POST
def remedy_cancel_view(request: AuthedRequest, remedy_id: int) -> HttpResponse:
    remedy = remedy_get_for_user(remedy_id=remedy_id, user=request.user)
    form = ReasonForm(request.POST)
    form.is_valid()
    remedy = remedy_cancel(
        remedy=remedy, reason=form.cleaned_data.get("reason", ""), actor=request.user
    )
    return _after_case_action(request, remedy.case, None)


@staff_required
@require_POST
def remedy_menu_create_view(request: AuthedRequest, ref: str) -> HttpResponse:
    case = case_get_for_user(ref=ref, user=request.user)
    options = []
    for i in range(MENU_OPTION_ROWS):
        kind = request.POST.get(f"option-{i}-kind", "").strip()
        if not kind:
            continue
        amount = request.POST.get(f"option-{i}-amount", "").strip() or None
        options.append(
            RemedyInput(
                kind=kind,
                amount=amount,
                currency=request.POST.get(f"option-{i}-currency", "") if amount else "",
                description=request.POST.get(f"option-{i}-description", "")[:500],
            )
        )
    menu_create(case=case, options=options, note=request.POST.get("note", ""), actor=request.user)
    return _after_case_action(request, case, None)


@staff_required
@require_POST
def remedy_menu_choose_view(request: AuthedRequest, menu_id: int) -> HttpResponse:
    menu = menu_get_for_user(menu_id=menu_id, user=request.user)
    try:
        remedy_id = int(request.POST.get("remedy_id", ""))
    except ValueError:
        raise ApplicationError("Pick one option.", code="invalid_choice", status=422) from None
    chosen = menu_choose(menu=menu, remedy_id=remedy_id, actor=request.user)
    return _after_case_action(request, menu.case, chosen)


# ---- approvals ----------------------------------------------------------------------------


def _page_number(request: AuthedRequest) -> int:
    try:
        return max(1, min(int(request.GET.get("page", "1")), 100_000))
    except ValueError:
        return 1


@staff_required
@require_GET
def approval_list_view(request: AuthedRequest) -> HttpResponse:
    page = paginate(approval_queue(user=request.user), page=_page_number(request))
    return render(request, "web/remedies/approvals.html", {"page": page, "now": timezone.now()})


# Sent with every response that changes what the nav counts (approvals waiting, unread
# notifications): the badges listen for it and reload themselves.
NAV_COUNTS_CHANGED = "navCountsChanged"


def _decided(request: AuthedRequest, remedy: Remedy) -> HttpResponse:
    if request.htmx:
        response = render(request, "web/remedies/_approval_decided.html", {"remedy": remedy})
        response["HX-Trigger"] = NAV_COUNTS_CHANGED
        return response
    return redirect("web:approval-list")


@staff_required
@require_GET
def approval_badge_view(request: AuthedRequest) -> HttpResponse:
    """The Approvals count in the nav, reloaded after an approval is decided."""
    return render(
        request,
        "web/remedies/_approvals_badge.html",
        {"pending_approvals": approval_pending_count(user=request.user)},
    )


@staff_required
@require_POST
def approval_approve_view(request: AuthedRequest, remedy_id: int) -> HttpResponse:
    remedy = remedy_get_for_user(remedy_id=remedy_id, user=request.user)
    form = ReasonForm(request.POST)
    form.is_valid()
    remedy = remedy_approve(
        remedy=remedy, reason=form.cleaned_data.get("reason", ""), actor=request.user
    )
    return _decided(request, remedy)


@staff_required
@require_POST
def approval_reject_view(request: AuthedRequest, remedy_id: int) -> HttpResponse:
    remedy = remedy_get_for_user(remedy_id=remedy_id, user=request.user)
    form = ReasonForm(request.POST)
    form.is_valid()
    remedy = remedy_reject(
        remedy=remedy, reason=form.cleaned_data.get("reason", ""), actor=request.user
    )
    return _decided(request, remedy)


# ---- my authority and the report ----------------------------------------------------------


@staff_required
@require_GET
def authority_mine_view(request: AuthedRequest) -> HttpResponse:
    return render(
        request,
        "web/remedies/authority.html",
        {
            "overview": authority_overview(user=request.user),
            # Limits are amounts in the organisation's currency.
            "currency": default_currency(),
        },
    )


def currency_rows(rows: list[dict[str, Any]], key: str, first: str) -> list[dict[str, Any]]:
    """One row per group with its totals per currency, the organisation's first: a team that
    paid in pounds and in dollars reads "£1,200.00 + $40.00", not as two rows far apart."""
    merged: dict[Any, dict[str, Any]] = {}
    for row in rows:
        group = merged.setdefault(row[key], {key: row[key], "count": 0, "totals": []})
        group["count"] += row["count"]
        group["totals"].append({"currency": row["currency"], "total": row["total"]})
    for group in merged.values():
        group["totals"].sort(key=lambda t: (t["currency"] != first, t["currency"]))
    return sorted(merged.values(), key=lambda g: (g[key] is None, str(g[key] or "")))


@staff_required
@require_GET
def remedy_report_view(request: AuthedRequest) -> HttpResponse:
    form = ReportForm(request.GET or None)
    today = organisation_today()
    since_day = today - timedelta(days=365)
    until_day = today
    if form.is_valid():
        since_day = form.cleaned_data["since"] or since_day
        until_day = form.cleaned_data["until"] or until_day
    # Days are the organisation's days, not UTC ones.
    since, until = organisation_days(since_day, until_day)
    report = remedy_report(user=request.user, since=since, until=until)
    currency = default_currency()
    context: dict[str, Any] = {
        "report": report,
        "by_category": currency_rows(report.by_category, "category", currency),
        "by_team": currency_rows(report.by_team, "team", currency),
        "by_month": currency_rows(report.by_month, "month", currency),
        "form": form,
        "since_day": since_day,
        "until_day": until_day,
        "median_hours": None
        if report.median_decision_seconds is None
        else round(report.median_decision_seconds / 3600, 1),
        "share_percent": None
        if report.share_within_authority is None
        else round(report.share_within_authority * 100),
    }
    return render(request, "web/remedies/report.html", context)

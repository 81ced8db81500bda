"""Desk work in the web UI: bulk actions from lists (a result per row), tags, merging a
duplicate, canned replies in the reply box, who else has a case open, and a customer's
handling (tier, special handling)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from amends.accounts.selectors import staff_get_by_username
from amends.cases.models import CannedReply, Case
from amends.cases.selectors import case_get_for_user
from amends.cases.services.bulk_actions import (
    BulkResult,
    BulkRow,
    cases_bulk_assign,
    cases_bulk_close,
)
from amends.cases.services.merge import case_merge
from amends.cases.services.presence import case_viewed, case_viewers_recent
from amends.cases.services.replies import canned_replies_for_case, canned_reply_render
from amends.cases.services.tags import case_tags_change
from amends.core.types import AuthedRequest
from amends.customers.selectors import customer_visible_to
from amends.customers.services import customer_handling_set
from amends.remedies.services.bulk import remedies_bulk_decide
from amends.web.decorators import staff_required
from amends.web.forms.cases import MessageForm
from amends.web.forms.common import valid
from amends.web.forms.desk import (
    ApprovalBulkForm,
    CannedPickForm,
    CaseBulkForm,
    CustomerHandlingForm,
    MergeForm,
    TagsForm,
)


def _bulk_response(
    request: AuthedRequest, results: list[BulkResult], *, what: str, back: str
) -> HttpResponse:
    done = sum(1 for r in results if r.ok)
    context = {"results": results, "done": done, "failed": len(results) - done, "what": what}
    if request.htmx:
        response = render(request, "web/desk/_bulk_result.html", context)
        response["HX-Trigger"] = "bulkDone"
        return response
    if done:
        messages.success(request, f"{done} {what} done.")
    for r in results:
        if not r.ok:
            messages.error(request, f"{r.ref}: {r.error}")
    return redirect(back)


@staff_required
@require_POST
def case_bulk_view(request: AuthedRequest) -> HttpResponse:
    form = valid(CaseBulkForm(request.POST))
    data = form.cleaned_data
    rows = [BulkRow(ref=ref) for ref in data["refs"]]
    action = data["action"]
    if action == "close":
        results = cases_bulk_close(rows=rows, actor=request.user)
    else:
        assignee = None
        if action == "assign_me":
            assignee = request.user
        elif action == "assign":
            assignee = staff_get_by_username(username=data["assignee"] or "", field="assignee")
        results = cases_bulk_assign(rows=rows, actor=request.user, assignee=assignee)
    back = request.POST.get("next") or reverse("web:queue")
    if not back.startswith("/") or back.startswith("//"):
        back = reverse("web:queue")
    return _bulk_response(request, results, what="cases", back=back)


@staff_required
@require_POST
def approval_bulk_view(request: AuthedRequest) -> HttpResponse:
    form = valid(ApprovalBulkForm(request.POST))
    data = form.cleaned_data
    results = remedies_bulk_decide(
        remedy_ids=data["ids"],
        approve=data["action"] == "approve",
        reason=data["reason"],
        actor=request.user,
    )
    return _bulk_response(request, results, what="approvals", back=reverse("web:approval-list"))


# ---- the case page: tags, merge, presence, canned replies ----------------------------------


def desk_panel_context(*, case: Case, user: Any) -> dict[str, Any]:
    """What the desk panel of the case page shows (also used by its template tag)."""
    return {
        "case": case,
        "tags": sorted(case.tags.values_list("name", flat=True)),
        "viewers": case_viewers_recent(case=case, user=user),
        "merged_into": case.merged_into if case.merged_into_id else None,
        "merge_form": MergeForm(initial={"version": case.version}),
        "tags_form": TagsForm(),
    }


def _panel(request: AuthedRequest, case: Case) -> HttpResponse:
    context = desk_panel_context(case=case, user=request.user)
    response = render(request, "web/desk/_case_panel.html", context)
    response["HX-Trigger"] = "caseChanged"
    return response


@staff_required
@require_POST
def case_tags_view(request: AuthedRequest, ref: str) -> HttpResponse:
    case = case_get_for_user(ref=ref, user=request.user)
    data = valid(TagsForm(request.POST)).cleaned_data
    add = [t for t in (data["add"] or "").split(",") if t.strip()]
    remove = [data["remove"]] if data["remove"] else []
    case = case_tags_change(
        case=case, actor=request.user, add=add, remove=remove, version=data["version"]
    )
    if not request.htmx:
        return redirect("web:case-detail", ref=case.ref)
    return _panel(request, case)


@staff_required
@require_POST
def case_merge_view(request: AuthedRequest, ref: str) -> HttpResponse:
    duplicate = case_get_for_user(ref=ref, user=request.user)
    data = valid(MergeForm(request.POST)).cleaned_data
    survivor = case_get_for_user(ref=data["into"], user=request.user)
    survivor = case_merge(
        duplicate=duplicate,
        survivor=survivor,
        actor=request.user,
        reason=data["reason"],
        duplicate_version=data["version"],
    )
    messages.success(request, f"{duplicate.ref} was merged into {survivor.ref}.")
    target = reverse("web:case-detail", args=[survivor.ref])
    if request.htmx:
        response = HttpResponse()
        response["HX-Redirect"] = target
        return response
    return redirect(target)


@staff_required
@require_GET
def case_presence_view(request: AuthedRequest, ref: str) -> HttpResponse:
    """Polled by the case page: notes that this person still has it open, and says who else
    does."""
    case = case_get_for_user(ref=ref, user=request.user)
    case_viewed(case=case, user=request.user)
    return render(
        request,
        "web/desk/_presence.html",
        {"case": case, "viewers": case_viewers_recent(case=case, user=request.user)},
    )


@staff_required
@require_GET
def case_canned_fill_view(request: AuthedRequest, ref: str) -> HttpResponse:
    """The reply box's text area with the picked canned reply filled in for this case."""
    case = case_get_for_user(ref=ref, user=request.user)
    form = valid(CannedPickForm(request.GET))
    reply = canned_replies_for_case(case=case).get(pk=form.cleaned_data["reply"])
    rendered = canned_reply_render(reply=reply, case=case, actor=request.user)
    message_form = MessageForm(initial={"body": rendered.body})
    return render(
        request,
        "web/desk/_canned_filled.html",
        {"message_form": message_form, "unknown": rendered.unknown, "reply": reply},
    )


def canned_replies_offered(*, case: Case) -> list[CannedReply]:
    return list(canned_replies_for_case(case=case)[:100])


# ---- a customer's handling -----------------------------------------------------------------


@staff_required
@require_POST
def customer_handling_view(request: AuthedRequest, customer_id: int) -> HttpResponse:
    customer = customer_visible_to(user=request.user).get(pk=customer_id)
    data = valid(CustomerHandlingForm(request.POST)).cleaned_data
    customer_handling_set(
        customer=customer,
        actor=request.user,
        tier=data["tier"],
        special_handling=data["special_handling"],
        special_handling_reason=data["special_handling_reason"],
    )
    messages.success(request, f"{customer.name}'s handling was updated.")
    target = reverse("web:customer-detail", args=[customer.pk])
    if request.htmx:
        response = HttpResponse()
        response["HX-Redirect"] = target
        return response
    return redirect(target)

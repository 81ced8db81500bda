"""The case page and its actions. Every action posts the version the user saw; htmx requests get
the case's panels back as out-of-band swaps plus `HX-Trigger: caseWorked` (the panels of the floors above reload on it)."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.db.models import Prefetch, prefetch_related_objects
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from amends.accounts.choices import Role
from amends.accounts.selectors import staff_list, staff_profile_of
from amends.cases.choices import TRANSITIONS, CaseStatus
from amends.cases.models import Case, Message
from amends.cases.selectors import (
    case_get_for_user,
    case_message_list,
    case_steps,
    case_timeline,
    case_visible_to,
)
from amends.cases.services.intake import NewCustomer, case_intake
from amends.cases.services.messages import case_message_add
from amends.cases.services.presence import case_viewed
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
from amends.core.types import AuthedRequest
from amends.customers.models import Customer
from amends.customers.selectors import customer_get_for_user
from amends.web.decorators import staff_required
from amends.web.forms.cases import (
    AssignForm,
    CaseAccountForm,
    CaseNewForm,
    MessageForm,
    ReopenForm,
    ResolveForm,
    StepDoneForm,
    StepSkipForm,
)
from amends.web.forms.common import VersionForm, valid
from amends.web.forms.customers import CustomerPickForm


def _actions_allowed(case: Case) -> dict[str, bool]:
    moves = TRANSITIONS[case.status]
    return {
        "acknowledge": CaseStatus.ACKNOWLEDGED in moves,
        "await_customer": CaseStatus.AWAITING_CUSTOMER in moves,
        "resume": CaseStatus.IN_RECOVERY in moves and case.is_open,
        "resolve": CaseStatus.RESOLVED in moves,
        "close": CaseStatus.CLOSED in moves,
        "reopen": not case.is_open,
        "assign": case.is_open,
    }


def _panels_context(request: AuthedRequest, case: Case) -> dict[str, Any]:
    profile = staff_profile_of(user=request.user)
    can_pick = profile.role != Role.AGENT
    team = case.team if case.team_id else profile.team
    teammates = list(staff_list(team=team)) if can_pick and team is not None else []
    return {
        "case": case,
        "steps": case_steps(case=case),
        "timeline": case_timeline(case=case),
        "allowed": _actions_allowed(case),
        "can_pick_assignee": can_pick,
        "teammates": teammates,
        "resolve_form": ResolveForm(initial={"version": case.version}),
    }


def _conversation(case: Case) -> list[Message]:
    """The messages with their files (one more query, whatever their number)."""
    messages = case_message_list(case=case)
    prefetch_related_objects(
        messages, Prefetch("attachments", queryset=Attachment.objects.order_by("id"))
    )
    return messages


def _case_changed(request: AuthedRequest, case: Case, *, also: str | None = None) -> HttpResponse:
    """After an action: the panels (out of band) for htmx, a redirect to the case otherwise."""
    if not request.htmx:
        return redirect("web:case-detail", ref=case.ref)
    context = _panels_context(request, case)
    context.update(oob=True, clear_flash=True)
    html = ""
    if also == "conversation":
        html = render(
            request,
            "web/cases/_conversation.html",
            {
                "case": case,
                "conversation": _conversation(case),
                "message_form": MessageForm(),
            },
        ).content.decode()
    elif also == "account":
        html = render(
            request,
            "web/cases/_account.html",
            {"case": case, "account_form": _account_form(case)},
        ).content.decode()
    response = render(request, "web/cases/_panels.html", context)
    response.content = html.encode() + response.content
    # `panels` tells our own listener it already has fresh panels; others refresh on the event.
    response["HX-Trigger"] = json.dumps({"caseWorked": {"ref": case.ref}})
    return response


def _account_form(case: Case) -> CaseAccountForm:
    return CaseAccountForm(
        initial={
            "description": case.description,
            "expected": case.expected,
            "delivered": case.delivered,
            "staff_account": case.staff_account,
            "fault": case.fault,
        }
    )


@staff_required
@require_GET
def case_detail_view(request: AuthedRequest, ref: str) -> HttpResponse:
    case = case_get_for_user(ref=ref, user=request.user)
    case_viewed(case=case, user=request.user)  # for the "also open by" notice
    context = _panels_context(request, case)
    context.update(
        conversation=_conversation(case),
        message_form=MessageForm(),
        account_form=_account_form(case),
    )
    return render(request, "web/cases/detail.html", context)


@staff_required
@require_GET
def case_panels_view(request: AuthedRequest, ref: str) -> HttpResponse:
    """The header, steps, actions and timeline, for the page to refresh after any change."""
    case = case_get_for_user(ref=ref, user=request.user)
    context = _panels_context(request, case)
    context["oob"] = True
    return render(request, "web/cases/_panels.html", context)


@staff_required
@require_POST
def case_acknowledge_view(request: AuthedRequest, ref: str) -> HttpResponse:
    case = case_get_for_user(ref=ref, user=request.user)
    form = valid(StepDoneForm(request.POST))
    case = case_acknowledge(
        case=case,
        version=form.cleaned_data["version"],
        actor=request.user,
        note=form.cleaned_data["note"],
    )
    return _case_changed(request, case)


@staff_required
@require_POST
def case_assign_view(request: AuthedRequest, ref: str) -> HttpResponse:
    case = case_get_for_user(ref=ref, user=request.user)
    if request.POST.get("assignee") == "me":
        form = valid(VersionForm(request.POST))
        assignee = request.user
    else:
        assign_form = valid(AssignForm(request.POST))
        form, assignee = assign_form, assign_form.cleaned_data["assignee"]
    case = case_assign(
        case=case, version=form.cleaned_data["version"], actor=request.user, assignee=assignee
    )
    return _case_changed(request, case)


@staff_required
@require_POST
def case_await_customer_view(request: AuthedRequest, ref: str) -> HttpResponse:
    case = case_get_for_user(ref=ref, user=request.user)
    form = valid(VersionForm(request.POST))
    case = case_await_customer(case=case, version=form.cleaned_data["version"], actor=request.user)
    return _case_changed(request, case)


@staff_required
@require_POST
def case_resume_view(request: AuthedRequest, ref: str) -> HttpResponse:
    case = case_get_for_user(ref=ref, user=request.user)
    form = valid(VersionForm(request.POST))
    case = case_resume(case=case, version=form.cleaned_data["version"], actor=request.user)
    return _case_changed(request, case)


@staff_required
@require_POST
def case_resolve_view(request: AuthedRequest, ref: str) -> HttpResponse:
    case = case_get_for_user(ref=ref, user=request.user)
    form = valid(ResolveForm(request.POST))
    case = case_resolve(
        case=case,
        outcome=form.cleaned_data["outcome"],
        explanation=form.cleaned_data["explanation"],
        version=form.cleaned_data["version"],
        actor=request.user,
        confirm_undetermined=form.cleaned_data["confirm_undetermined"],
    )
    return _case_changed(request, case)


@staff_required
@require_POST
def case_close_view(request: AuthedRequest, ref: str) -> HttpResponse:
    case = case_get_for_user(ref=ref, user=request.user)
    form = valid(VersionForm(request.POST))
    case = case_close(case=case, version=form.cleaned_data["version"], actor=request.user)
    return _case_changed(request, case)


@staff_required
@require_POST
def case_reopen_view(request: AuthedRequest, ref: str) -> HttpResponse:
    case = case_get_for_user(ref=ref, user=request.user)
    form = valid(ReopenForm(request.POST))
    case = case_reopen(
        case=case,
        version=form.cleaned_data["version"],
        actor=request.user,
        reason=form.cleaned_data["reason"],
    )
    return _case_changed(request, case)


@staff_required
@require_POST
def case_update_view(request: AuthedRequest, ref: str) -> HttpResponse:
    case = case_get_for_user(ref=ref, user=request.user)
    form = valid(CaseAccountForm(request.POST))
    data = dict(form.cleaned_data)
    version = data.pop("version")
    case = case_update(case=case, version=version, actor=request.user, **data)
    return _case_changed(request, case, also="account")


@staff_required
@require_POST
def case_step_done_view(request: AuthedRequest, ref: str, step: str) -> HttpResponse:
    case = case_get_for_user(ref=ref, user=request.user)
    form = valid(StepDoneForm(request.POST))
    case = case_step_done(
        case=case,
        step=step,
        version=form.cleaned_data["version"],
        actor=request.user,
        note=form.cleaned_data["note"],
    )
    return _case_changed(request, case)


@staff_required
@require_POST
def case_step_skip_view(request: AuthedRequest, ref: str, step: str) -> HttpResponse:
    case = case_get_for_user(ref=ref, user=request.user)
    form = valid(StepSkipForm(request.POST))
    case = case_step_skip(
        case=case,
        step=step,
        reason=form.cleaned_data["reason"],
        version=form.cleaned_data["version"],
        actor=request.user,
    )
    return _case_changed(request, case)


@staff_required
@require_POST
def case_message_add_view(request: AuthedRequest, ref: str) -> HttpResponse:
    case = case_get_for_user(ref=ref, user=request.user)
    form = valid(MessageForm(request.POST, request.FILES))
    files = uploaded_files_read(form.cleaned_data["attachments"])
    with transaction.atomic():  # a refused file leaves no message behind
        message = case_message_add(
            case=case,
            direction=form.cleaned_data["direction"],
            body=form.cleaned_data["body"],
            version=form.cleaned_data["version"],
            awaiting_customer=form.cleaned_data["awaiting_customer"],
            actor=request.user,
        )
        message_attachments_add(message=message, files=files, actor=request.user)
    case = case_get_for_user(ref=ref, user=request.user)
    return _case_changed(request, case, also="conversation")


@staff_required
@require_http_methods(["GET", "POST"])
def case_new_view(request: AuthedRequest) -> HttpResponse:
    # No team picked: the routing rules send the case where it belongs.
    initial: dict[str, Any] = {}
    preselected = None
    if request.method == "GET":
        # "New case" from a customer's page: that customer, already picked.
        picked = CustomerPickForm(request.GET)
        if picked.is_valid() and picked.cleaned_data["customer"]:
            try:
                preselected = customer_get_for_user(
                    customer_id=picked.cleaned_data["customer"], user=request.user
                )
            except Customer.DoesNotExist:
                preselected = None
            initial["customer"] = preselected
    form = CaseNewForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        # The API's intake: a returning customer is found by their reference.
        new_customer = None
        if data["customer"] is None:
            new_customer = NewCustomer(
                name=data["customer_name"],
                external_ref=data["customer_ref"] or "",
                details={"email": data["customer_email"], "phone": data["customer_phone"]},
            )
        case = case_intake(
            customer=data["customer"],
            new_customer=new_customer,
            title=data["title"],
            description=data["description"],
            expected=data["expected"],
            delivered=data["delivered"],
            channel=data["channel"],
            severity=data["severity"],
            category=data["category"],
            service=data["service"],
            team=data["team"],
            assignee=request.user if data["assign_to_me"] else None,
            actor=request.user,
        )
        target = reverse("web:case-detail", args=[case.ref])
        if not case_visible_to(user=request.user).filter(pk=case.pk).exists():
            # Routed to a team this user cannot see: say where it went instead of a 404.
            messages.success(
                request, f"{case.ref} opened and sent to the {case.team} team's queue."
            )
            target = reverse("web:queue")
        if request.htmx:
            response = HttpResponse()
            response["HX-Redirect"] = target
            return response
        return redirect(target)
    selected = form.cleaned_data.get("customer") if form.is_bound else preselected
    template = "web/cases/_new_form.html" if request.htmx else "web/cases/new.html"
    context = {"form": form, "selected_customer": selected}
    return render(request, template, context, status=422 if form.is_bound else 200)

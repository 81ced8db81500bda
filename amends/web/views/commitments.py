"""Promises, escalations and notifications in the staff UI (thin views over the services)."""

from __future__ import annotations

import os

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from amends.accounts.selectors import staff_list, staff_profile_of
from amends.cases.models import Case
from amends.cases.selectors import case_get_for_user
from amends.commitments.choices import CommitmentKind, CommitmentState, EscalationLevel
from amends.commitments.models import Notification
from amends.commitments.selectors import (
    commitment_get_for_user,
    commitment_list,
    escalation_get_for_user,
    escalation_list,
    notification_get_for_user,
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
from amends.commitments.services.escalations import (
    escalation_can_decide,
    escalation_decide,
    escalation_raise,
)
from amends.commitments.services.notifications import (
    notification_mark_all_read,
    notification_mark_read,
)
from amends.commitments.templatetags.commitment_tags import case_panel_context
from amends.core.pagination import paginate
from amends.core.types import AuthedRequest
from amends.core.validation import WindowDateTimeField
from amends.web.forms.common import valid


class CommitmentForm(forms.Form):
    kind = forms.ChoiceField(choices=CommitmentKind.choices)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)
    owner = forms.ModelChoiceField(queryset=staff_list())
    due_at = WindowDateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    customer_visible = forms.BooleanField(required=False, initial=True)


class KeepForm(forms.Form):
    note = forms.CharField(required=False, max_length=5000)
    reference = forms.CharField(required=False, max_length=200)
    evidence = forms.FileField(required=False)


class CancelForm(forms.Form):
    reason = forms.CharField(max_length=5000)
    customer_informed = forms.BooleanField(required=False)


class RescheduleForm(forms.Form):
    due_at = WindowDateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    reason = forms.CharField(max_length=5000)


class EscalateForm(forms.Form):
    level = forms.ChoiceField(choices=EscalationLevel.choices)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)


class DecideForm(forms.Form):
    decision = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)


def _panel(request: AuthedRequest, case: Case) -> HttpResponse:
    if not request.htmx:
        return HttpResponseRedirect(reverse("web:case-detail", kwargs={"ref": case.ref}))
    response = render(
        request,
        "web/commitments/_case_panel.html",
        {**case_panel_context(case=case, user=request.user), "request": request},
    )
    response["HX-Trigger"] = "caseChanged"
    return response


@login_required
@require_POST
def commitment_create_view(request: AuthedRequest, ref: str) -> HttpResponse:
    case = case_get_for_user(ref=ref, user=request.user)
    form = valid(CommitmentForm(request.POST))
    data = form.cleaned_data
    commitment_create(
        case=case,
        kind=data["kind"],
        description=data["description"],
        owner=data["owner"],
        due_at=data["due_at"],
        customer_visible=data["customer_visible"],
        actor=request.user,
    )
    return _panel(request, case)


@login_required
@require_POST
def commitment_keep_view(request: AuthedRequest, commitment_id: int) -> HttpResponse:
    commitment = commitment_get_for_user(commitment_id=commitment_id, user=request.user)
    form = valid(KeepForm(request.POST, request.FILES))
    commitment_keep(
        commitment=commitment,
        actor=request.user,
        note=form.cleaned_data["note"],
        reference=form.cleaned_data["reference"],
        evidence=form.cleaned_data["evidence"],
    )
    return _panel(request, commitment.case)


@login_required
def commitment_evidence_view(request: AuthedRequest, commitment_id: int) -> FileResponse:
    """The evidence file of a kept promise, only for staff who can see its case (uploads are
    never served from MEDIA_URL). Always a download, never rendered inline."""
    commitment = commitment_get_for_user(commitment_id=commitment_id, user=request.user)
    if not commitment.kept_file:
        raise Http404("This promise has no evidence file.")
    try:
        handle = commitment.kept_file.open("rb")
    except FileNotFoundError as missing:
        raise Http404("The evidence file is missing.") from missing
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=os.path.basename(commitment.kept_file.name or "evidence"),
        content_type="application/octet-stream",
    )
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def commitment_cancel_view(request: AuthedRequest, commitment_id: int) -> HttpResponse:
    commitment = commitment_get_for_user(commitment_id=commitment_id, user=request.user)
    form = valid(CancelForm(request.POST))
    commitment_cancel(
        commitment=commitment,
        reason=form.cleaned_data["reason"],
        customer_informed=form.cleaned_data["customer_informed"],
        actor=request.user,
    )
    return _panel(request, commitment.case)


@login_required
@require_POST
def commitment_reschedule_view(request: AuthedRequest, commitment_id: int) -> HttpResponse:
    commitment = commitment_get_for_user(commitment_id=commitment_id, user=request.user)
    form = valid(RescheduleForm(request.POST))
    commitment_reschedule(
        commitment=commitment,
        due_at=form.cleaned_data["due_at"],
        reason=form.cleaned_data["reason"],
        actor=request.user,
    )
    return _panel(request, commitment.case)


@login_required
@require_POST
def escalation_raise_view(request: AuthedRequest, ref: str) -> HttpResponse:
    case = case_get_for_user(ref=ref, user=request.user)
    form = valid(EscalateForm(request.POST))
    escalation_raise(
        case=case,
        level=form.cleaned_data["level"],
        note=form.cleaned_data["note"],
        actor=request.user,
    )
    return _panel(request, case)


@login_required
@require_POST
def escalation_decide_view(request: AuthedRequest, escalation_id: int) -> HttpResponse:
    escalation = escalation_get_for_user(escalation_id=escalation_id, user=request.user)
    form = valid(DecideForm(request.POST))
    escalation_decide(
        escalation=escalation, decision=form.cleaned_data["decision"], actor=request.user
    )
    if request.POST.get("from") == "list":
        return HttpResponseRedirect(reverse("web:escalation-list"))
    return _panel(request, escalation.case)


def _page_number(request: AuthedRequest) -> int:
    try:
        return max(1, int(request.GET.get("page", "1")))
    except ValueError:
        return 1


@login_required
def promises_due_view(request: AuthedRequest) -> HttpResponse:
    """Open promises, soonest due first: mine, or my team's."""
    scope = request.GET.get("scope", "mine")
    state = request.GET.get("state", CommitmentState.OPEN)
    if state not in CommitmentState.values:
        state = CommitmentState.OPEN
    profile = staff_profile_of(user=request.user)
    if scope == "team" and profile.team_id is not None:
        qs = commitment_list(user=request.user, state=state, team_id=profile.team_id)
    else:
        scope = "mine"
        qs = commitment_list(user=request.user, state=state, owner=request.user)
    page = paginate(qs, page=_page_number(request))
    now = timezone.now()
    for c in page.items:
        c.light_now = c.light_at(now)  # type: ignore[attr-defined]  # template convenience
    return render(
        request,
        "web/commitments/promises_due.html",
        {"page": page, "scope": scope, "state": state, "states": CommitmentState.choices},
    )


@login_required
def escalation_list_view(request: AuthedRequest) -> HttpResponse:
    """Escalations to me (or all I can see), soonest decision due first."""
    scope = request.GET.get("scope", "mine")
    qs = escalation_list(user=request.user, mine=scope != "all")
    page = paginate(qs, page=_page_number(request))
    rank = staff_profile_of(user=request.user).rank
    for e in page.items:
        # Only those who may decide get the form (escalation_decide checks again).
        e.can_decide = escalation_can_decide(  # type: ignore[attr-defined]
            actor_rank=rank, actor_id=request.user.pk, escalation=e
        )
    return render(
        request,
        "web/commitments/escalations.html",
        {"page": page, "scope": "all" if scope == "all" else "mine", "now": timezone.now()},
    )


@login_required
def notification_list_view(request: AuthedRequest) -> HttpResponse:
    unread_only = request.GET.get("unread") == "1"
    qs = notification_list(user=request.user, unread_only=unread_only).select_related("case")
    page = paginate(qs, page=_page_number(request))
    return render(
        request,
        "web/commitments/notifications.html",
        {
            "page": page,
            "unread_only": unread_only,
            "unread": notification_unread_count(user=request.user),
            "pager_query": "unread=1&" if unread_only else "",
        },
    )


@login_required
@require_POST
def notification_read_view(request: AuthedRequest, notification_id: int) -> HttpResponse:
    """Mark one notification read; the bell recounts (HX-Trigger navCountsChanged)."""
    try:
        notification = notification_get_for_user(notification_id=notification_id, user=request.user)
    except Notification.DoesNotExist as exc:
        raise Http404 from exc
    notification = notification_mark_read(notification=notification, actor=request.user)
    if not request.htmx:
        return HttpResponseRedirect(reverse("web:notification-list"))
    response = render(request, "web/commitments/_notification.html", {"n": notification})
    response["HX-Trigger"] = "navCountsChanged"
    return response


@login_required
def notification_bell_view(request: AuthedRequest) -> HttpResponse:
    # Polled by every open page: rendered without the context processors (which would load
    # the staff profile and more), so it costs the session, the user and one COUNT.
    return HttpResponse(
        render_to_string(
            "web/commitments/_bell.html", {"unread": notification_unread_count(user=request.user)}
        )
    )


@login_required
@require_POST
def notification_read_all_view(request: AuthedRequest) -> HttpResponse:
    notification_mark_all_read(actor=request.user)
    return HttpResponseRedirect(reverse("web:notification-list"))


@login_required
def promise_measures_view(request: AuthedRequest) -> HttpResponse:
    return render(
        request,
        "web/commitments/measures.html",
        {"measures": promise_measures(user=request.user)},
    )

"""Incidents in the staff UI: the list, declaring one, the incident page with its live funnel
and round progress (htmx poll), uploading affected customers, previewing and sending notices,
status, updates and closing. Thin views over the incidents services."""

from __future__ import annotations

import csv
import io
from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from amends.accounts.selectors import staff_list
from amends.core.exceptions import ApplicationError
from amends.core.pagination import paginate
from amends.core.types import AuthedRequest
from amends.incidents.choices import IncidentStatus, RoundKind, RoundStatus
from amends.incidents.event_text import incident_events_render
from amends.incidents.models import Incident, NotificationRound
from amends.incidents.selectors import (
    funnel_of,
    impact_list_for_incident,
    incident_event_list,
    incident_get_for_user,
    incident_kind_list,
    incident_list,
    incident_update_list,
    round_current,
    round_list,
)
from amends.incidents.services.csv_rows import affected_rows_from_csv
from amends.incidents.services.impacts import MAX_BATCH, AddResult, impacts_add
from amends.incidents.services.incidents import (
    incident_close,
    incident_create,
    incident_status_set,
    incident_update_post,
)
from amends.incidents.services.links import impact_for_token, impact_mark_opened, impact_open
from amends.incidents.services.notify import round_preview, round_progress_of, round_start
from amends.incidents.services.policies import staff_may_manage
from amends.taxonomy.selectors import root_cause_list
from amends.web.decorators import staff_required
from amends.web.forms.common import valid

# Uploads through the browser stay small; bigger files go through `amends incident affected`.
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class IncidentForm(forms.Form):
    title = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=())
    magnitude = forms.DecimalField(min_value=0, max_digits=12, decimal_places=2)
    started_at = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    severity = forms.TypedChoiceField(
        coerce=int, choices=[(1, "1 critical"), (2, "2 high"), (3, "3 medium"), (4, "4 low")]
    )
    public_description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), max_length=10_000, required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kind_field = self.fields["kind"]
        assert isinstance(kind_field, forms.ChoiceField)  # noqa: S101
        kind_field.choices = [(k.code, k.name) for k in incident_kind_list()]


class UploadForm(forms.Form):
    file = forms.FileField()
    create_missing = forms.BooleanField(required=False)


class NoticeForm(forms.Form):
    kind = forms.ChoiceField(choices=RoundKind.choices)
    subject = forms.CharField(max_length=200, required=False)
    body = forms.CharField(widget=forms.Textarea, max_length=20_000, required=False)


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=IncidentStatus.choices)


class UpdateForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=5_000)
    public = forms.BooleanField(required=False)


class CloseForm(forms.Form):
    root_cause = forms.ModelChoiceField(queryset=root_cause_list())
    prevention = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2_000)
    owner = forms.ModelChoiceField(queryset=staff_list())
    due_at = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))


def _page_number(request: AuthedRequest) -> int:
    raw = request.GET.get("page", "1")
    return int(raw) if raw.isdigit() and len(raw) < 7 else 1


def _detail_url(incident: Incident) -> str:
    return reverse("web:incident-detail", args=[incident.pk])


@staff_required
@require_GET
def incident_list_view(request: AuthedRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    if status not in IncidentStatus.values:
        status = ""
    page = paginate(incident_list(user=request.user, status=status), page=_page_number(request))
    return render(
        request,
        "web/incidents/list.html",
        {
            "page": page,
            "status": status,
            "statuses": IncidentStatus.choices,
            "can_manage": staff_may_manage(user=request.user),
            "form": IncidentForm(),
        },
    )


@staff_required
@require_POST
def incident_create_view(request: AuthedRequest) -> HttpResponse:
    form = valid(IncidentForm(request.POST))
    data = form.cleaned_data
    incident = incident_create(
        title=data["title"],
        kind=data["kind"],
        magnitude=data["magnitude"],
        started_at=data["started_at"],
        severity=data["severity"],
        public_description=data["public_description"],
        actor=request.user,
    )
    return HttpResponseRedirect(_detail_url(incident))


def _panel(incident: Incident, notice: NotificationRound | None) -> dict[str, Any]:
    """The funnel and the current round's progress, from rows the view has just read."""
    progress = round_progress_of(notice=notice) if notice else None
    return {
        "incident": incident,
        "funnel": funnel_of(incident=incident),
        "progress": progress,
        "polling": progress is not None and progress["status"] == RoundStatus.RUNNING,
    }


@staff_required
@require_GET
def incident_detail_view(request: AuthedRequest, incident_id: int) -> HttpResponse:
    incident = incident_get_for_user(incident_id=incident_id, user=request.user)
    impacts = paginate(impact_list_for_incident(incident=incident), page=_page_number(request))
    rounds = round_list(incident=incident)
    current = rounds[-1] if rounds else None
    return render(
        request,
        "web/incidents/detail.html",
        {
            **_panel(incident, current),
            "impacts": impacts,
            "rounds": rounds,
            "updates": incident_update_list(incident=incident),
            "events": incident_events_render(incident_event_list(incident=incident, limit=50)),
            "can_manage": staff_may_manage(user=request.user),
            "is_open": incident.status != IncidentStatus.CLOSED,
            "notice_form": NoticeForm(initial={"kind": _next_round_kind(incident, current)}),
            "status_form": StatusForm(initial={"status": incident.status}),
            "update_form": UpdateForm(initial={"public": True}),
            "close_form": CloseForm(),
            "upload_form": UploadForm(),
        },
    )


def _next_round_kind(incident: Incident, current: NotificationRound | None) -> str:
    if current is None:
        return RoundKind.INITIAL
    if incident.status == IncidentStatus.RESOLVED:
        return RoundKind.RESOLVED
    return RoundKind.UPDATE


@staff_required
@require_GET
def incident_progress_view(request: AuthedRequest, incident_id: int) -> HttpResponse:
    """The funnel and the round's progress: polled by the page while a round is sending."""
    incident = incident_get_for_user(incident_id=incident_id, user=request.user)
    return render(
        request, "web/incidents/_progress.html", _panel(incident, round_current(incident=incident))
    )


@staff_required
@require_POST
def incident_affected_upload_view(request: AuthedRequest, incident_id: int) -> HttpResponse:
    incident = incident_get_for_user(incident_id=incident_id, user=request.user)
    form = valid(UploadForm(request.POST, request.FILES))
    upload = form.cleaned_data["file"]
    if upload.size > MAX_UPLOAD_BYTES:
        raise ApplicationError(
            "The file is over 20 MB; upload it with `amends incident affected` instead.",
            code="file_too_large",
            status=413,
        )
    total = AddResult()
    try:
        handle = io.TextIOWrapper(upload.file, encoding="utf-8-sig", newline="")
        batch = []
        for row in affected_rows_from_csv(handle):
            batch.append(row)
            if len(batch) >= MAX_BATCH:
                total.merge(_add(incident, batch, request.user, form))
                batch = []
        if batch:
            total.merge(_add(incident, batch, request.user, form))
    except (UnicodeDecodeError, ValueError, csv.Error) as exc:
        raise ApplicationError(
            f"The file is not a readable UTF-8 CSV ({exc}); rows before the problem were added "
            f"({total.added}).",
            code="invalid_csv",
            status=422,
        ) from exc
    return render(
        request,
        "web/incidents/_upload_result.html",
        {"incident": incident, "result": total, "rejected": total.rejected[:50]},
    )


def _add(incident: Incident, batch: list[Any], actor: User, form: UploadForm) -> AddResult:
    return impacts_add(
        incident=incident,
        rows=batch,
        actor=actor,
        create_missing=form.cleaned_data["create_missing"],
    )


@staff_required
@require_POST
def incident_preview_view(request: AuthedRequest, incident_id: int) -> HttpResponse:
    incident = incident_get_for_user(incident_id=incident_id, user=request.user)
    data = valid(NoticeForm(request.POST)).cleaned_data
    preview = round_preview(
        incident=incident, kind=data["kind"], subject=data["subject"], body=data["body"]
    )
    return render(request, "web/incidents/_preview.html", {"preview": preview})


@staff_required
@require_POST
def incident_notify_view(request: AuthedRequest, incident_id: int) -> HttpResponse:
    incident = incident_get_for_user(incident_id=incident_id, user=request.user)
    data = valid(NoticeForm(request.POST)).cleaned_data
    round_start(
        incident=incident,
        kind=data["kind"],
        subject=data["subject"],
        body=data["body"],
        actor=request.user,
    )
    return HttpResponseRedirect(_detail_url(incident))


@staff_required
@require_POST
def incident_status_view(request: AuthedRequest, incident_id: int) -> HttpResponse:
    incident = incident_get_for_user(incident_id=incident_id, user=request.user)
    data = valid(StatusForm(request.POST)).cleaned_data
    incident_status_set(incident=incident, status=data["status"], actor=request.user)
    return HttpResponseRedirect(_detail_url(incident))


@staff_required
@require_POST
def incident_update_view(request: AuthedRequest, incident_id: int) -> HttpResponse:
    incident = incident_get_for_user(incident_id=incident_id, user=request.user)
    data = valid(UpdateForm(request.POST)).cleaned_data
    incident_update_post(
        incident=incident, body=data["body"], public=data["public"], actor=request.user
    )
    return HttpResponseRedirect(_detail_url(incident))


@staff_required
@require_POST
def incident_close_view(request: AuthedRequest, incident_id: int) -> HttpResponse:
    incident = incident_get_for_user(incident_id=incident_id, user=request.user)
    data = valid(CloseForm(request.POST)).cleaned_data
    incident_close(
        incident=incident,
        root_cause=data["root_cause"],
        prevention=data["prevention"],
        prevention_owner=data["owner"],
        prevention_due_at=data["due_at"],
        actor=request.user,
    )
    return HttpResponseRedirect(_detail_url(incident))


# ---- the customer's own incident page (public: the signed link is the key) ----------------


def _customer_lines(impact: Any) -> dict[str, list[dict[str, Any]]]:
    lines = [line for line in impact.lines if line["status"] in ("owed", "option")]
    return {
        "owed": [line for line in lines if line["status"] == "owed"],
        "options": [line for line in lines if line["status"] == "option"],
    }


@never_cache
@require_GET
def incident_link_view(request: HttpRequest, token: str) -> HttpResponse:
    """What happened and what the policy gives this customer; choosing is a POST."""
    try:
        impact = impact_for_token(token)
    except ApplicationError as exc:
        return render(request, "web/incidents/link_invalid.html", {"error": exc}, status=404)
    impact_mark_opened(impact=impact)
    incident = impact.incident
    response = render(
        request,
        "web/incidents/link.html",
        {
            "incident": incident,
            "impact": impact,
            "currency": incident.policy.currency if incident.policy else "",
            "updates": incident_update_list(incident=incident, public_only=True)[:5],
            "token": token,
            **_customer_lines(impact),
        },
    )
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_POST
def incident_link_open_view(request: HttpRequest, token: str) -> HttpResponse:
    """Open (once) the customer's case with their menu, and send them to its portal."""
    try:
        impact = impact_for_token(token)
    except ApplicationError as exc:
        return render(request, "web/incidents/link_invalid.html", {"error": exc}, status=404)
    return HttpResponseRedirect(impact_open(impact=impact))

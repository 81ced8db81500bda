"""The public complaint form at /report (no login)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from amends.channels.services.report import report_submit
from amends.core.exceptions import ApplicationError
from amends.web.forms.channels import ReportForm

SESSION_KEY = "amends_report_done"


@require_http_methods(["GET", "POST"])
def report_view(request: HttpRequest) -> HttpResponse:
    form = ReportForm(request.POST or None, request.FILES or None)
    error: ApplicationError | None = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        file = data.get("attachment")
        try:
            result = report_submit(
                name=data["name"],
                email=data["email"],
                expected=data["expected"],
                happened=data["happened"],
                category=data["category"],
                ip=request.META.get("REMOTE_ADDR", ""),
                honeypot=data.get("website") or "",
                attachment=(file.name or "attachment", file.content_type or "", file.read())
                if file
                else None,
            )
        except ApplicationError as exc:
            error = exc
        else:
            request.session[SESSION_KEY] = {
                "ref": result.case.ref if result.case else "",
                "url": result.portal_url,
            }
            return HttpResponseRedirect(reverse("web:report-done"))
    status = error.status if error else (422 if form.errors else 200)
    return render(request, "web/report/form.html", {"form": form, "error": error}, status=status)


@require_GET
def report_done_view(request: HttpRequest) -> HttpResponse:
    done = request.session.get(SESSION_KEY) or {}
    return render(request, "web/report/done.html", {"ref": done.get("ref"), "url": done.get("url")})

"""Staff views of a case's channels: attachments, original emails, failed-send retries."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from amends.cases.selectors import case_get_for_user
from amends.channels.models import InboundEmail, OutboundEmail
from amends.channels.selectors import attachment_get_for_case
from amends.channels.services.attachments import attachment_file
from amends.channels.services.inbound import raw_email_path
from amends.channels.services.outbound import outbound_retry
from amends.core.types import AuthedRequest
from amends.web.decorators import staff_required


@login_required
@require_GET
def case_attachment_view(request: AuthedRequest, ref: str, attachment_id: int) -> FileResponse:
    # The case selector checks the staff role and the case's visibility (else 403/404).
    case = case_get_for_user(ref=ref, user=request.user)
    attachment = attachment_get_for_case(case_id=case.pk, attachment_id=attachment_id)
    return FileResponse(
        attachment_file(attachment).open("rb"),
        as_attachment=True,
        filename=attachment.filename,
        content_type="application/octet-stream",
    )


@login_required
@require_GET
def case_email_original_view(request: AuthedRequest, ref: str, email_id: int) -> FileResponse:
    """The email exactly as received, shown as plain text (never rendered as HTML)."""
    case = case_get_for_user(ref=ref, user=request.user)
    email = InboundEmail.objects.get(pk=email_id, case=case)
    response = FileResponse(
        raw_email_path(email).open("rb"), content_type="text/plain; charset=utf-8"
    )
    response["Content-Disposition"] = "inline"
    return response


@staff_required
@require_POST
def case_email_retry_view(request: AuthedRequest, ref: str, email_id: int) -> HttpResponse:
    case = case_get_for_user(ref=ref, user=request.user)
    outbound_retry(email=OutboundEmail.objects.get(pk=email_id, case=case))
    return HttpResponseRedirect(reverse("web:case-detail", args=[case.ref]))

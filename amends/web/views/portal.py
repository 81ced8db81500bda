"""The customer portal, `/c/<token>`: one case, seen and answered by its customer.

No login: the signed link is the key. Only the public conversation, customer-visible promises
and open remedy choices appear; every change is a POST (mail scanners open links)."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from amends.channels.models import PortalLink
from amends.channels.selectors import portal_attachment_get, portal_view
from amends.channels.services.attachments import attachment_file
from amends.channels.services.portal import (
    portal_link_for_token,
    portal_link_request,
    portal_link_touch,
    portal_menu_choose,
    portal_reply,
)
from amends.core.exceptions import ApplicationError
from amends.web.forms.channels import PortalChooseForm, PortalLinkRequestForm, PortalReplyForm
from amends.web.forms.common import valid


def _link_or_page(request: HttpRequest, token: str) -> PortalLink | HttpResponse:
    try:
        return portal_link_for_token(token)
    except ApplicationError as exc:
        return render(
            request,
            "web/portal/invalid.html",
            {"error": exc, "form": PortalLinkRequestForm()},
            status=exc.status,
        )


def _back(token: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("web:portal", args=[token]))


@never_cache
@require_GET
def portal_view_page(request: HttpRequest, token: str) -> HttpResponse:
    link = _link_or_page(request, token)
    if isinstance(link, HttpResponse):
        return link
    portal_link_touch(link=link)
    context = {
        "view": portal_view(case=link.case),
        "token": token,
        "reply_form": PortalReplyForm(),
    }
    response = render(request, "web/portal/case.html", context)
    # The token never leaks to other sites (no-referrer would make form posts Origin: null).
    response["Referrer-Policy"] = "same-origin"
    return response


def _attachment(form: PortalReplyForm) -> tuple[str, str, bytes] | None:
    file = form.cleaned_data.get("attachment")
    if not file:
        return None
    return (file.name or "attachment", file.content_type or "", file.read())


@require_POST
def portal_reply_view(request: HttpRequest, token: str) -> HttpResponse:
    link = _link_or_page(request, token)
    if isinstance(link, HttpResponse):
        return link
    form = valid(PortalReplyForm(request.POST, request.FILES))
    portal_reply(link=link, body=form.cleaned_data["body"], attachment=_attachment(form))
    messages.success(request, "Thank you, we have your reply.")
    return _back(token)


@require_POST
def portal_choose_view(request: HttpRequest, token: str) -> HttpResponse:
    link = _link_or_page(request, token)
    if isinstance(link, HttpResponse):
        return link
    form = valid(PortalChooseForm(request.POST))
    remedy = portal_menu_choose(
        link=link, menu_id=form.cleaned_data["menu"], remedy_id=form.cleaned_data["remedy"]
    )
    messages.success(request, f"Thank you, you chose: {remedy.kind.name}.")
    return _back(token)


@require_GET
def portal_attachment_view(
    request: HttpRequest, token: str, attachment_id: int
) -> HttpResponse | FileResponse:
    link = _link_or_page(request, token)
    if isinstance(link, HttpResponse):
        return link
    attachment = portal_attachment_get(case_id=link.case_id, attachment_id=attachment_id)
    return FileResponse(
        attachment_file(attachment).open("rb"),
        as_attachment=True,
        filename=attachment.filename,
        content_type="application/octet-stream",
    )


@require_http_methods(["GET", "POST"])
def portal_link_request_view(request: HttpRequest) -> HttpResponse:
    form = PortalLinkRequestForm(request.POST or None)
    sent = False
    if request.method == "POST" and form.is_valid():
        portal_link_request(email=form.cleaned_data["email"], ref=form.cleaned_data["ref"])
        sent = True  # the same answer whether or not the case and address match
    return render(request, "web/portal/link_request.html", {"form": form, "sent": sent})

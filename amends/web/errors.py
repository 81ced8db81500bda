"""Business-rule errors become responses for the web UI in exactly this one place."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.loader import render_to_string
from django.utils.http import url_has_allowed_host_and_scheme

from amends.core.exceptions import ApplicationError


class ApplicationErrorMiddleware:
    """htmx requests get the error as a flash partial swapped into `#flash` (with the HTTP
    status, which htmx is configured to swap too); full-page posts redirect back with a message."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if request.path.startswith("/api/") or request.path.startswith("/admin/"):
            return None
        if isinstance(exc, ObjectDoesNotExist):
            raise Http404("Not found") from exc
        if not isinstance(exc, ApplicationError):
            return None
        if getattr(request, "htmx", False):
            html = render_to_string("web/_flash_error.html", {"error": exc}, request=request)
            response = HttpResponse(html, status=exc.status)
            response["HX-Retarget"] = "#flash"
            response["HX-Reswap"] = "innerHTML"
            return response
        messages.error(request, exc.message)
        back = request.META.get("HTTP_REFERER", "/")
        if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
            back = "/"
        return HttpResponseRedirect(back)

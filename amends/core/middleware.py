"""Request guards and security headers that every page and endpoint gets.

`RequestGuardMiddleware` refuses malformed requests before any view runs (NUL characters in
the path, query or form fields; bodies over DATA_UPLOAD_MAX_MEMORY_SIZE; too many fields;
absurdly long query strings) with a 4xx: JSON `{code, message, detail}` under /api/, plain
text elsewhere. `ContentSecurityPolicyMiddleware` sends the CSP header (settings.AMENDS_CSP).
"""

from __future__ import annotations

import json
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import (
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError

from amends.core.conf import amends_setting

# Query strings longer than this are refused (414); a URL never needs more.
MAX_QUERY_STRING = 8192


def request_error_response(
    request: HttpRequest,
    status: int,
    code: str,
    message: str,
    detail: dict[str, list[str]] | None = None,
) -> HttpResponse:
    """The one shape of a refused request: JSON under /api/, plain text elsewhere."""
    if request.path.startswith("/api/"):
        body = json.dumps({"code": code, "message": message, "detail": detail or {}})
        return HttpResponse(body, status=status, content_type="application/json")
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


def request_error_for(exc: Exception) -> tuple[int, str, str] | None:
    """Status, code and message for an error Django raises while reading a request."""
    if isinstance(exc, RequestDataTooBig):
        return 413, "too_large", "The request body is too large."
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        return 400, "too_many_fields", "The request has too many fields."
    if isinstance(exc, MultiPartParserError):
        return 400, "bad_request", "The request body could not be read."
    if isinstance(exc, SuspiciousOperation):
        return 400, "bad_request", "The request was refused."
    if isinstance(exc, UnicodeDecodeError):
        return 400, "bad_request", "The request is not valid UTF-8."
    return None


class RequestGuardMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        refused = self._check(request)
        if refused is not None:
            return refused
        return self.get_response(request)

    def _check(self, request: HttpRequest) -> HttpResponse | None:
        query = request.META.get("QUERY_STRING", "")
        if len(query) > amends_setting("MAX_QUERY_STRING", MAX_QUERY_STRING):
            return request_error_response(
                request, 414, "uri_too_long", "The query string is too long."
            )
        nul = "Text may not contain NUL characters."
        if "\x00" in request.path:  # no URL of ours has one: there is no such page
            return request_error_response(request, 404, "not_found", "Not found.")
        if "%00" in query.lower():
            fields = {
                name.replace("\x00", "") or "query": [nul]
                for name, values in request.GET.lists()
                if "\x00" in name or any("\x00" in v for v in values)
            }
            return request_error_response(request, 422, "invalid_input", nul, fields)
        content_type = request.content_type or ""
        if request.method in ("POST", "PUT", "PATCH") and not content_type.startswith(
            "application/json"
        ):
            try:
                form = request.POST
            except Exception as exc:  # mapped below or re-raised
                mapped = request_error_for(exc)
                if mapped is None:
                    raise
                return request_error_response(request, *mapped)
            bad = {
                name.replace("\x00", "") or "form": [nul]
                for name, values in form.lists()
                if "\x00" in name or any("\x00" in v for v in values)
            }
            if bad:
                return request_error_response(request, 422, "invalid_input", nul, bad)
        return None


class ContentSecurityPolicyMiddleware:
    """`Content-Security-Policy` from settings.AMENDS_CSP (a dict of directive -> sources).

    Django 5.2 has no CSP support of its own. The policy allows no inline script or style, so
    templates keep scripts and styles in static files (web/static/web/).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        policy: dict[str, list[str]] = getattr(settings, "AMENDS_CSP", {})
        self.header = "; ".join(
            f"{name} {' '.join(sources)}".strip() for name, sources in policy.items()
        )
        self.report_only = bool(getattr(settings, "AMENDS_CSP_REPORT_ONLY", False))

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.header:
            name = (
                "Content-Security-Policy-Report-Only"
                if self.report_only
                else "Content-Security-Policy"
            )
            response.headers.setdefault(name, self.header)
        return response

"""Which template an htmx-aware page renders: the partial for htmx, the full page otherwise."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers


def wants_partial(request: HttpRequest) -> bool:
    """htmx asks for a partial, except when it restores history (then it needs the page)."""
    details = getattr(request, "htmx", None)
    return bool(details) and not details.history_restore_request  # type: ignore[union-attr]


def render_page(
    request: HttpRequest, *, page: str, partial: str, context: dict[str, Any]
) -> HttpResponse:
    response = render(request, partial if wants_partial(request) else page, context)
    patch_vary_headers(response, ["HX-Request"])  # the same URL answers with two bodies
    return response

"""The REST API: one NinjaAPI, one router per domain, errors shaped in exactly one place."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.openapi.schema import OpenAPISchema

from amends.api import cases, commitments, customers, desk, feedback, incidents, meta, remedies
from amends.api import channels as channels_api
from amends.api import insight as insight_api
from amends.api import loyalty as loyalty_api
from amends.api.auth import api_auth
from amends.api.docs import LocalSwagger
from amends.core.exceptions import ApplicationError
from amends.core.idempotency import HEADER as IDEMPOTENCY_HEADER
from amends.core.middleware import request_error_for

logger = logging.getLogger(__name__)

IDEMPOTENCY_PARAMETER = {
    "in": "header",
    "name": IDEMPOTENCY_HEADER,
    "required": False,
    "description": (
        "Optional. A retry with the same key and the same body gets the first answer again "
        "(same status, header `Idempotent-Replayed: true`) and creates nothing twice; the "
        "same key with another body answers 422 `idempotency_key_reused`, and 409 "
        "`idempotency_in_progress` while the first request runs. Keys are per client and "
        "kept AMENDS_IDEMPOTENCY_KEY_HOURS (24) hours."
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
}


class AmendsAPI(NinjaAPI):
    """NinjaAPI whose OpenAPI document also names what the middleware adds to operations."""

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        for operations in schema["paths"].values():
            post = operations.get("post")
            if post is not None:  # IdempotencyMiddleware honours the key on every API POST
                post.setdefault("parameters", []).append(dict(IDEMPOTENCY_PARAMETER))
        return schema


api = AmendsAPI(
    title="Amends API",
    version="1",
    description=(
        "Service recovery: cases, recovery steps, SLA clocks and the conversation. "
        "Authenticate with `Authorization: Bearer <token>` (`amends token create USERNAME`). "
        "Errors are `{code, message, detail}`. Writes that could lose data take the `version` "
        "of the case you read; a stale version answers 409 and changes nothing."
    ),
    auth=api_auth,
    urls_namespace="api",
    openapi_url="/v1/openapi.json",
    docs_url="/docs",
    docs=LocalSwagger(),
)


def _error(
    request: HttpRequest, status: int, code: str, message: str, detail: object = None
) -> HttpResponse:
    return api.create_response(
        request, {"code": code, "message": message, "detail": detail or {}}, status=status
    )


@api.exception_handler(ApplicationError)
def on_application_error(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    return _error(request, exc.status, exc.code, exc.message, exc.detail)


@api.exception_handler(ObjectDoesNotExist)
def on_not_found(request: HttpRequest, exc: ObjectDoesNotExist) -> HttpResponse:
    return _error(request, 404, "not_found", "Not found, or not visible to you.")


@api.exception_handler(Http404)
def on_http404(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, "not_found", "Not found, or not visible to you.")


def _field_of(loc: Sequence[object]) -> str:
    """`("body", "payload", "customer", "name")` -> "customer.name"; `("query", "size")` ->
    "size". Only the leading source markers go: a field may itself be called "body"."""
    parts = [str(p) for p in loc]
    if parts[:2] == ["body", "payload"]:
        parts = parts[2:]
    elif parts and parts[0] in ("body", "query", "path", "header", "cookie", "form", "file"):
        parts = parts[1:]
    return ".".join(parts) or "request"


@api.exception_handler(NinjaValidationError)
def on_validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    fields: dict[str, list[str]] = {}
    for error in exc.errors:
        fields.setdefault(_field_of(error.get("loc", ())), []).append(
            str(error.get("msg", "invalid"))
        )
    return _error(request, 422, "invalid_input", "The request is not valid.", fields)


@api.exception_handler(AuthenticationError)
def on_auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, "unauthenticated", "Send a valid bearer token or log in.")


@api.exception_handler(DjangoPermissionDenied)
def on_forbidden(request: HttpRequest, exc: DjangoPermissionDenied) -> HttpResponse:
    return _error(request, 403, "forbidden", str(exc) or "You are not allowed to do this.")


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    codes = {
        400: "bad_request",
        401: "unauthenticated",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        409: "conflict",
        422: "invalid_input",
    }
    return _error(request, exc.status_code, codes.get(exc.status_code, "error"), str(exc.message))


@api.exception_handler(Exception)
def on_unexpected_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    """Last resort: log the bug and still answer in the documented error shape.

    Errors Django raises while reading the request (body over DATA_UPLOAD_MAX_MEMORY_SIZE,
    too many fields, a broken multipart body) are the client's: 4xx, see core.middleware."""
    mapped = request_error_for(exc)
    if mapped is not None:
        return _error(request, *mapped)
    logger.exception("Unhandled error in %s %s", request.method, request.path, exc_info=exc)
    return _error(request, 500, "server_error", "Something went wrong on our side.")


api.add_router("/v1/", meta.router)
# Before the cases and customers routers: /cases/bulk is not a case reference.
api.add_router("/v1/", desk.router)
api.add_router("/v1/customers", customers.router)
api.add_router("/v1/cases", cases.router)
api.add_router("/v1/", remedies.router)
api.add_router("/v1/", commitments.router)
api.add_router("/v1/", feedback.router)
api.add_router("/v1/incidents", incidents.router)
api.add_router("/v1/recovery-policies", incidents.policy_router)
api.add_router("/v1/", loyalty_api.router)
api.add_router("/v1/insight", insight_api.router)
api.add_router("/v1/", channels_api.router)

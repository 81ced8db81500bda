"""`Idempotency-Key` for every API POST: a retried request gets the first answer, never a twin.

The client sends `Idempotency-Key: <up to 255 printable characters>` on a POST under /api/.

- First time: the request runs; its answer (status, body) is kept for
  AMENDS["IDEMPOTENCY_KEY_HOURS"] hours (24 by default).
- Same key, same method, path and body, from the same client: the kept answer is replayed
  with the same status and the header `Idempotent-Replayed: true`; nothing runs again.
- Same key with another method, path or body: 422 `idempotency_key_reused`.
- Same key while the first request is still running: 409 `idempotency_in_progress`.
- A 5xx answer is not kept (the client may retry with the same key).

Keys are per client (a hash of the bearer token, or the session's user), so two clients
never see each other's answers. `idempotency_sweep` deletes expired keys.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.http.request import RawPostDataException
from django.utils import timezone

from amends.core.conf import amends_setting
from amends.core.middleware import request_error_for, request_error_response
from amends.core.models import IdempotencyKey

HEADER = "Idempotency-Key"
_KEY = re.compile(r"[\x21-\x7e]{1,255}")


def _scope(request: HttpRequest) -> str | None:
    authorization = request.headers.get("Authorization", "")
    if authorization:
        return hashlib.sha256(authorization.strip().encode()).hexdigest()
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return hashlib.sha256(f"user:{user.pk}".encode()).hexdigest()
    return None  # anonymous: the view answers 401 anyway


def _fingerprint(request: HttpRequest, body: bytes) -> str:
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.get_full_path()}\n".encode())
    digest.update(body)
    return digest.hexdigest()


def _body_of(request: HttpRequest) -> bytes:
    """The raw body; or, when a multipart body was already parsed from the stream (the request
    guard reads form fields), its fields and files, which identify it as well."""
    try:
        return request.body
    except RawPostDataException:
        files = sorted(
            f"{name}={upload.name}:{upload.size}"
            for name, uploads in request.FILES.lists()
            for upload in uploads
        )
        return "\n".join([request.POST.urlencode(), *files]).encode()


def _replay(request: HttpRequest, *, row: IdempotencyKey) -> HttpResponse:
    response = HttpResponse(
        bytes(row.body), status=row.status_code or 200, content_type=row.content_type or None
    )
    response["Idempotent-Replayed"] = "true"
    return response


def idempotency_key_hours() -> float:
    return float(amends_setting("IDEMPOTENCY_KEY_HOURS", 24))


class IdempotencyMiddleware:
    """Put after AuthenticationMiddleware (session users are a scope)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.headers.get(HEADER)
        if key is None or request.method != "POST" or not request.path.startswith("/api/"):
            return self.get_response(request)
        if not _KEY.fullmatch(key):
            return request_error_response(
                request,
                422,
                "invalid_idempotency_key",
                "Idempotency-Key must be 1 to 255 printable ASCII characters.",
            )
        scope = _scope(request)
        if scope is None:
            return self.get_response(request)
        try:
            body = _body_of(request)
        except Exception as exc:  # mapped below or re-raised
            mapped = request_error_for(exc)
            if mapped is None:
                raise
            return request_error_response(request, *mapped)
        fingerprint = _fingerprint(request, body)
        now = timezone.now()
        row, refused = self._claim(scope=scope, key=key, fingerprint=fingerprint, now=now)
        if refused is not None:
            return refused(request)
        assert row is not None  # noqa: S101  # _claim returns one of the two
        try:
            response = self.get_response(request)
        except BaseException:
            IdempotencyKey.objects.filter(pk=row.pk).delete()
            raise
        if response.status_code >= 500 or getattr(response, "streaming", False):
            IdempotencyKey.objects.filter(pk=row.pk).delete()
            return response
        IdempotencyKey.objects.filter(pk=row.pk).update(
            status_code=response.status_code,
            content_type=response.get("Content-Type", "")[:100],
            body=response.content,
        )
        return response

    def _claim(
        self, *, scope: str, key: str, fingerprint: str, now: datetime
    ) -> tuple[IdempotencyKey | None, Callable[[HttpRequest], HttpResponse] | None]:
        """The new in-progress row, or what to answer instead (a replay or a refusal)."""
        for _attempt in range(2):
            existing = IdempotencyKey.objects.filter(scope=scope, key=key).first()
            if existing is not None and existing.expires_at <= now:
                existing.delete()
                existing = None
            if existing is not None:
                if existing.fingerprint != fingerprint:
                    return None, lambda r: request_error_response(
                        r,
                        422,
                        "idempotency_key_reused",
                        "This Idempotency-Key was used for a different request.",
                    )
                if existing.status_code is None:
                    return None, lambda r: request_error_response(
                        r,
                        409,
                        "idempotency_in_progress",
                        "A request with this Idempotency-Key is still running; retry shortly.",
                    )
                return None, partial(_replay, row=existing)
            try:
                with transaction.atomic():
                    row = IdempotencyKey.objects.create(
                        scope=scope,
                        key=key,
                        fingerprint=fingerprint,
                        created_at=now,
                        expires_at=now + timedelta(hours=idempotency_key_hours()),
                    )
            except IntegrityError:
                continue  # a concurrent twin claimed it first: look again
            return row, None
        return None, lambda r: request_error_response(
            r, 409, "idempotency_in_progress", "A request with this key is still running."
        )


def idempotency_sweep(*, now: datetime) -> int:
    """Delete expired idempotency keys, a batch at a time; idempotent. Returns rows deleted."""
    batch = int(amends_setting("SWEEP_BATCH_SIZE", 1000))
    deleted = 0
    while True:
        ids = list(
            IdempotencyKey.objects.filter(expires_at__lte=now)
            .order_by("expires_at")
            .values_list("pk", flat=True)[:batch]
        )
        if not ids:
            return deleted
        deleted += IdempotencyKey.objects.filter(pk__in=ids).delete()[0]

"""gunicorn workers that refuse an oversized request in Amends' JSON error shape.

`amends serve` raises gunicorn's request-line limit to its maximum (8190 bytes), so every URL
up to 8 KB reaches Amends, whose request guard answers 414 `{code, message, detail}` for a
query string over AMENDS_MAX_QUERY_STRING. A request line gunicorn still cannot take (or
headers over its limits) is answered here in the same shape, instead of gunicorn's HTML page:
414 `uri_too_long` and 431 `headers_too_large`. Other malformed HTTP keeps gunicorn's answer.
"""

from __future__ import annotations

import json
from typing import Any

from gunicorn import util  # type: ignore[import-untyped]
from gunicorn.http.errors import (  # type: ignore[import-untyped]
    LimitRequestHeaders,
    LimitRequestLine,
)
from gunicorn.workers.gthread import ThreadWorker  # type: ignore[import-untyped]
from gunicorn.workers.sync import SyncWorker  # type: ignore[import-untyped]

# gunicorn's own maximum for --limit-request-line (0 would mean no limit at all).
REQUEST_LINE_MAX = 8190

REFUSALS: list[tuple[type[Exception], int, str, str, str]] = [
    (LimitRequestLine, 414, "URI Too Long", "uri_too_long", "The request line is too long."),
    (
        LimitRequestHeaders,
        431,
        "Request Header Fields Too Large",
        "headers_too_large",
        "The request headers are too large.",
    ),
]


def refusal_bytes(status: int, reason: str, code: str, message: str) -> bytes:
    """A complete HTTP/1.1 response carrying the JSON error body."""
    body = json.dumps({"code": code, "message": message, "detail": {}}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


class JsonRefusals:
    """Mixed into a gunicorn worker: too-long lines and headers answer JSON."""

    log: Any

    def handle_error(self, req: Any, client: Any, addr: Any, exc: Exception) -> None:
        for kind, status, reason, code, message in REFUSALS:
            if isinstance(exc, kind):
                ip = (addr or ("", -1))[0]
                self.log.warning(f"Invalid request from ip={ip}: {exc}")
                try:
                    util.write_nonblock(client, refusal_bytes(status, reason, code, message))
                except Exception:  # the client went away: nothing to answer
                    self.log.debug("Failed to send error message.")
                return
        super().handle_error(req, client, addr, exc)  # type: ignore[misc]


class AmendsSyncWorker(JsonRefusals, SyncWorker):
    """gunicorn's sync worker (one thread per process)."""


class AmendsThreadWorker(JsonRefusals, ThreadWorker):
    """gunicorn's gthread worker (--threads above 1)."""

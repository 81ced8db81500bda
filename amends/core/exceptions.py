from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    """A business rule said no. API and web turn it into a response in exactly one place.

    `status` is the HTTP status an API client gets: 409 for a conflict with the current state
    (stale version, illegal transition, missing steps), 422 for input that can never be valid,
    403 for a permission the actor lacks, 400 otherwise.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str = "invalid",
        status: int = 400,
        detail: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.detail = detail or {}

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "detail": self.detail}


class StaleVersionError(ApplicationError):
    def __init__(self, *, expected: int, actual: int) -> None:
        super().__init__(
            "Someone else changed this while you were editing; reload to see their change, "
            "then try again.",
            code="stale_version",
            status=409,
            detail={"your_version": expected, "current_version": actual},
        )


class PermissionDeniedError(ApplicationError):
    def __init__(self, message: str = "You are not allowed to do this.") -> None:
        super().__init__(message, code="forbidden", status=403)

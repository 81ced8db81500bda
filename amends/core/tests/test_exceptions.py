from __future__ import annotations

from amends.core.exceptions import ApplicationError, PermissionDeniedError, StaleVersionError


def test_application_error_as_dict() -> None:
    error = ApplicationError("No.", code="nope", status=409, detail={"x": [1]})
    assert error.as_dict() == {"code": "nope", "message": "No.", "detail": {"x": [1]}}
    assert ApplicationError("No.").as_dict()["detail"] == {}
    assert ApplicationError("No.").status == 400


def test_stale_version_error_keeps_versions_in_the_detail_and_speaks_plainly() -> None:
    error = StaleVersionError(expected=2, actual=5)
    assert (error.code, error.status) == ("stale_version", 409)
    assert error.detail == {"your_version": 2, "current_version": 5}
    assert error.message.startswith("Someone else changed this while you were editing")
    assert "version" not in error.message


def test_permission_denied_error_is_403() -> None:
    assert (PermissionDeniedError().code, PermissionDeniedError().status) == ("forbidden", 403)

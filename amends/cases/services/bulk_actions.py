"""Bulk actions from a list: the same action on many cases, each row through the normal
service (visibility, permissions, version check, audit), each in its own transaction, so one
row's failure does not stop the others. The result says, per row, what happened."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.contrib.auth.models import User

from amends.accounts.models import Team
from amends.cases.models import Case
from amends.cases.selectors import case_get_for_user
from amends.cases.services.workflow import case_assign, case_close
from amends.core.exceptions import ApplicationError

MAX_BULK_ROWS = 100


@dataclass(frozen=True)
class BulkRow:
    """One row of a bulk action: a case reference and, optionally, the version the user saw."""

    ref: str
    version: int | None = None


@dataclass(frozen=True)
class BulkResult:
    ref: str
    ok: bool
    error: str = ""
    code: str = ""


def bulk_rows_check(rows: Sequence[object]) -> None:
    if not rows:
        raise ApplicationError("Pick at least one row.", code="invalid_bulk", status=422)
    if len(rows) > MAX_BULK_ROWS:
        raise ApplicationError(
            f"At most {MAX_BULK_ROWS} rows at once.", code="invalid_bulk", status=422
        )


def bulk_run(
    keys: Sequence[str], act: Callable[[str], None], *, missing: type[Exception]
) -> list[BulkResult]:
    """Run `act` for each key; a refused row is reported, not raised."""
    results = []
    for key in keys:
        try:
            act(key)
        except missing:
            results.append(BulkResult(key, False, "Not found.", "not_found"))
        except ApplicationError as exc:
            results.append(BulkResult(key, False, exc.message, exc.code))
        else:
            results.append(BulkResult(key, True))
    return results


def cases_bulk_assign(
    *, rows: Sequence[BulkRow], actor: User, assignee: User | None, team: Team | None = None
) -> list[BulkResult]:
    """Assign each case (to a person, or to a team's queue) as `case_assign` does."""
    bulk_rows_check(rows)
    versions = {row.ref: row.version for row in rows}

    def act(ref: str) -> None:
        case = case_get_for_user(ref=ref, user=actor)
        case_assign(case=case, version=versions[ref], actor=actor, assignee=assignee, team=team)

    return bulk_run([row.ref for row in rows], act, missing=Case.DoesNotExist)


def cases_bulk_close(*, rows: Sequence[BulkRow], actor: User) -> list[BulkResult]:
    """Close each resolved case as `case_close` does (follow-ups due before closing first)."""
    bulk_rows_check(rows)
    versions = {row.ref: row.version for row in rows}

    def act(ref: str) -> None:
        case = case_get_for_user(ref=ref, user=actor)
        case_close(case=case, version=versions[ref], actor=actor)

    return bulk_run([row.ref for row in rows], act, missing=Case.DoesNotExist)

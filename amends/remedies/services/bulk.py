"""Deciding many approvals at once: each row through `remedy_approve` / `remedy_reject`
(authority, who may decide, audit), each in its own transaction; a refused row is reported and
the others go on."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.models import User

from amends.cases.services.bulk_actions import BulkResult, bulk_rows_check, bulk_run
from amends.remedies.models import Remedy
from amends.remedies.selectors import remedy_get_for_user
from amends.remedies.services.remedies import remedy_approve, remedy_reject


def remedies_bulk_decide(
    *, remedy_ids: Sequence[int], approve: bool, reason: str, actor: User
) -> list[BulkResult]:
    """Approve (or reject) each pending remedy; results are keyed by the remedy id."""
    bulk_rows_check(remedy_ids)
    decide = remedy_approve if approve else remedy_reject

    def act(key: str) -> None:
        remedy = remedy_get_for_user(remedy_id=int(key), user=actor)
        decide(remedy=remedy, reason=reason, actor=actor)

    return bulk_run([str(pk) for pk in remedy_ids], act, missing=Remedy.DoesNotExist)

"""Bulk updates of imported cases: a re-import refreshes their account fields in one statement
per batch. Opening cases set-based is `cases_open_many` in cases.services.batch."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from amends.cases.choices import CaseEventKind
from amends.cases.models import Case, CaseEvent
from amends.core.exceptions import ApplicationError


@transaction.atomic
def case_update_bulk(
    *, cases: list[Case], fields: list[str], actor: User | None, source: str
) -> int:
    """Refresh imported cases' account fields (title, description, category, service) in one
    statement per batch, each with an `updated` event naming the fields."""
    allowed = {"title", "description", "expected", "delivered", "category", "service"}
    if not cases:
        return 0
    if not set(fields) <= allowed:
        raise ApplicationError("Only account fields can be updated in bulk.", code="invalid")
    for case in cases:
        case.version += 1
    Case.objects.bulk_update(cases, [*fields, "version"], batch_size=1000)
    now = timezone.now()
    CaseEvent.objects.bulk_create(
        [
            CaseEvent(
                case=case,
                kind=CaseEventKind.UPDATED,
                actor=actor,
                data={"fields": fields, "source": source},
                created_at=now,
            )
            for case in cases
        ],
        batch_size=2000,
    )
    return len(cases)

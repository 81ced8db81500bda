from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone

from amends.cases.models import Case, CaseEvent
from amends.core.rows import instance_insert


def case_event_record(
    *, case: Case, kind: str, actor: User | None, data: dict[str, Any] | None = None
) -> CaseEvent:
    """Append one event to a case's timeline. Callers are services inside their transaction.
    One fixed INSERT (`instance_insert`): every change of every case records an event, and the
    ORM's compiling of the INSERT cost more than running it."""
    event = CaseEvent(case=case, kind=kind, actor=actor, data=data or {}, created_at=timezone.now())
    instance_insert(event)
    return event


def changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """`{"field": {"from": old, "to": new}}` for every field that differs, JSON-safe."""
    return {
        field: {"from": _plain(before.get(field)), "to": _plain(value)}
        for field, value in after.items()
        if before.get(field) != value
    }


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)

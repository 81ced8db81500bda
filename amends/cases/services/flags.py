"""Marks other apps put on a case through the cases app (the only writer of Case)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from amends.cases.choices import CaseEventKind
from amends.cases.models import Case
from amends.cases.services.events import case_event_record
from amends.cases.services.workflow import case_lock
from amends.core import hooks


@transaction.atomic
def case_mark_double_deviation(*, case: Case, cause: str, actor: User | None) -> Case:
    """Mark a case as a second failure after a failed recovery (idempotent); `cause` says why,
    e.g. "repeat_after_broken_promise"."""
    case = case_lock(case=case, version=None)
    if case.double_deviation:
        return case
    case.double_deviation = True
    case.version += 1
    case.save(update_fields=["double_deviation", "version", "updated_at"])
    case_event_record(
        case=case,
        kind=CaseEventKind.UPDATED,
        actor=actor,
        data={"double_deviation": {"from": False, "to": True}, "cause": cause},
    )
    hooks.case_changed.emit(
        hooks.CaseChanged(
            case_id=case.pk,
            fields=("double_deviation",),
            actor_id=actor.pk if actor is not None else None,
        )
    )
    return case

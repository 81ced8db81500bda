"""Merging a duplicate case into the one that stays (the survivor).

The survivor keeps the whole history: the duplicate's messages and timeline events move over,
its tags join the survivor's, and the floors above move what they hold on the duplicate
(remedies, promises, escalations, files) through the `case_merged` hook. The duplicate is then
closed as merged, pointing at the survivor; both timelines record the merge.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from amends.cases.choices import CaseEventKind, CaseStatus
from amends.cases.models import Case, CaseEvent, Message
from amends.cases.services.events import case_event_record
from amends.core import hooks
from amends.core.exceptions import ApplicationError, StaleVersionError


def _refuse(message: str, code: str = "invalid_merge") -> ApplicationError:
    return ApplicationError(message, code=code, status=409)


@transaction.atomic
def case_merge(
    *,
    duplicate: Case,
    survivor: Case,
    actor: User,
    reason: str = "",
    duplicate_version: int | None = None,
) -> Case:
    """Merge `duplicate` into `survivor` and close it as merged; returns the survivor."""
    if duplicate.pk == survivor.pk:
        raise _refuse("A case cannot be merged into itself.")
    # One lock order (lower id first), so two merges of the same pair cannot deadlock.
    locked = {
        c.pk: c
        for c in Case.objects.select_for_update(of=("self",))
        .filter(pk__in=[duplicate.pk, survivor.pk])
        .order_by("pk")
    }
    dup, keep = locked[duplicate.pk], locked[survivor.pk]
    if duplicate_version is not None and dup.version != duplicate_version:
        raise StaleVersionError(expected=duplicate_version, actual=dup.version)
    if dup.merged_into_id is not None:
        raise _refuse(f"{dup.ref} is already merged into another case.")
    if keep.merged_into_id is not None:
        raise _refuse(f"{keep.ref} was itself merged; merge into the case it points to.")
    if dup.status == CaseStatus.CLOSED:
        raise _refuse(f"{dup.ref} is closed; only an open or resolved case can be merged.")
    if dup.customer_id != keep.customer_id:
        raise _refuse("Only cases of the same customer can be merged.", code="different_customers")
    now = timezone.now()
    moved_messages = Message.objects.filter(case=dup).update(case=keep)
    moved_events = CaseEvent.objects.filter(case=dup).update(case=keep)
    keep.tags.add(*dup.tags.all())
    hooks.case_merged.emit(
        hooks.CaseMerged(survivor_id=keep.pk, duplicate_id=dup.pk, actor_id=actor.pk)
    )
    before = dup.status
    dup.status = CaseStatus.CLOSED
    dup.closed_at = now
    dup.merged_into = keep
    dup.sla_due_at = None
    dup.sla_at_risk_at = None
    dup.version += 1
    dup.save(
        update_fields=[
            "status",
            "closed_at",
            "merged_into",
            "sla_due_at",
            "sla_at_risk_at",
            "version",
            "updated_at",
        ]
    )
    keep.version += 1
    keep_fields = ["version", "updated_at"]
    # The duplicate's SLA escalations moved over with it (case_merged): a breach it already
    # had escalated counts as handled for the survivor too, as the escalation itself does.
    if dup.sla_breach_noted_at is not None and (
        keep.sla_breach_noted_at is None or keep.sla_breach_noted_at < dup.sla_breach_noted_at
    ):
        keep.sla_breach_noted_at = dup.sla_breach_noted_at
        keep_fields.append("sla_breach_noted_at")
    keep.save(update_fields=keep_fields)
    reason = reason.strip()[:2000]
    case_event_record(
        case=dup,
        kind=CaseEventKind.MERGED_INTO,
        actor=actor,
        data={
            "into": keep.ref,
            "reason": reason,
            "status": {"from": before, "to": CaseStatus.CLOSED},
        },
    )
    case_event_record(
        case=keep,
        kind=CaseEventKind.MERGED_FROM,
        actor=actor,
        data={
            "from": dup.ref,
            "reason": reason,
            "messages": moved_messages,
            "events": moved_events,
        },
    )
    hooks.case_status_changed.emit(
        hooks.CaseStatusChanged(
            case_id=dup.pk, before=before, after=CaseStatus.CLOSED, actor_id=actor.pk
        )
    )
    return keep

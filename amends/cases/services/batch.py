"""Set-based writes to cases and their timelines, for the sweeps of the floors above.

The sweeps change thousands of cases a run; these do for a batch what `case_event_record`,
`case_mark_double_deviation` and `case_update` do for one case, in a few statements (multi-row
INSERT / UPDATE through `amends.core.rows`). The caller holds the transaction. They announce
nothing themselves: the caller emits its own set-based hook (`commitments_broken`, …).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from amends.cases.choices import CaseEventKind
from amends.cases.models import Case, CaseEvent
from amends.cases.services.sla import sla_compute
from amends.cases.services.workflow import SLA_FIELDS
from amends.core.rows import db_datetime, db_json, insert_rows, update_rows
from amends.policies.selectors import SlaPolicy, sla_policy_for


@dataclass(frozen=True)
class EventRow:
    """One timeline event for `case_events_record_many` (no actor: the system did it)."""

    case_id: int
    kind: str
    data: Mapping[str, Any]


def case_events_record_many(*, events: Sequence[EventRow], at: datetime) -> None:
    """Append these events to their cases' timelines, all dated `at`, in order."""
    when = db_datetime(at)
    insert_rows(
        model=CaseEvent,
        columns=["case_id", "kind", "data", "created_at"],
        rows=[(e.case_id, e.kind, db_json(e.data), when) for e in events],
    )


def cases_mark_double_deviation(*, case_ids: Iterable[int], cause: str, at: datetime) -> list[int]:
    """Flag these cases a second failure (those not flagged yet, in id order), each with an
    event on its timeline; returns the ids newly flagged."""
    newly_flagged = sorted(
        Case.objects.filter(pk__in=list(case_ids), double_deviation=False).values_list(
            "pk", flat=True
        )
    )
    if not newly_flagged:
        return []
    Case.objects.filter(pk__in=newly_flagged).update(double_deviation=True)
    case_events_record_many(
        events=[
            EventRow(
                case_id=pk,
                kind=CaseEventKind.DOUBLE_DEVIATION,
                data={"double_deviation": {"from": False, "to": True}, "cause": cause},
            )
            for pk in newly_flagged
        ],
        at=at,
    )
    return newly_flagged


def cases_raise_severity(
    *, raises: Mapping[int, int], cause: str, at: datetime
) -> list[tuple[int, int, int]]:
    """Raise each open case's severity by `raises[case_id]` levels (1 is the highest) and
    re-time its SLA for the new severity, as `case_update` does for one case; each change goes
    on the timeline. Returns (case_id, before, after)."""
    cases = list(
        Case.objects.select_for_update(of=("self",))
        .select_related("playbook__calendar")
        .filter(pk__in=list(raises), sla_due_at__isnull=False, severity__gt=1)
        .order_by("pk")  # one lock order: no deadlocks between workers
    )
    policies: dict[tuple[int | None, int], SlaPolicy] = {}
    changed = []
    for case in cases:
        before = case.severity
        case.severity = max(1, before - raises[case.pk])
        key = (case.playbook_id, case.severity)
        if key not in policies:
            policies[key] = sla_policy_for(playbook=case.playbook, severity=case.severity)
        sla_compute(case, policy=policies[key])
        case.version += 1
        case.updated_at = at
        changed.append((case.pk, before, case.severity))
    fields = ["severity", *SLA_FIELDS, "version", "updated_at"]
    update_rows(
        model=Case,
        columns=fields,
        rows=[
            [
                *(
                    db_datetime(getattr(case, f))
                    if isinstance(getattr(case, f), datetime)
                    else getattr(case, f)
                    for f in fields
                ),
                case.pk,
            ]
            for case in cases
        ],
    )
    case_events_record_many(
        events=[
            EventRow(
                case_id=pk,
                kind=CaseEventKind.UPDATED,
                data={"severity": {"from": before, "to": after}, "cause": cause},
            )
            for pk, before, after in changed
        ],
        at=at,
    )
    return changed

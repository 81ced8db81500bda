"""How the customer feels, kept on the case for the queues (filters and "most upset first").

The reading is made by the floors above (insight scores the customer's words and finds repeat
failures); they write it here through this service. It is derived data: no version bump and no
timeline event (the reading itself is shown on the case by its owner)."""

from __future__ import annotations

from collections.abc import Iterable

from amends.cases.models import Case
from amends.core.rows import update_rows


def case_attention_set(
    *, case_id: int, attention: float, upset: bool, churn_intent: bool, repeat_failure: bool
) -> bool:
    """Store the reading on the case; one UPDATE, which touches nothing when it is unchanged.
    Returns whether the case changed."""
    changed = (
        Case.objects.filter(pk=case_id)
        .exclude(
            attention=attention,
            upset=upset,
            churn_intent=churn_intent,
            repeat_failure=repeat_failure,
        )
        .update(
            attention=attention,
            upset=upset,
            churn_intent=churn_intent,
            repeat_failure=repeat_failure,
        )
    )
    return changed > 0


def cases_attention_set_many(*, readings: Iterable[tuple[int, float, bool, bool, bool]]) -> int:
    """The same for many cases at once (an import batch): (case_id, attention, upset,
    churn_intent, repeat_failure) each, in one statement (an UPDATE from arrays on PostgreSQL,
    up to 5,000 cases a statement; one prepared UPDATE run for every case on SQLite). Returns
    how many readings were written."""
    rows = [
        (attention, upset, churn_intent, repeat_failure, case_id)
        for case_id, attention, upset, churn_intent, repeat_failure in readings
    ]
    update_rows(
        model=Case, columns=["attention", "upset", "churn_intent", "repeat_failure"], rows=rows
    )
    return len(rows)

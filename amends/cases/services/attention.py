"""How the customer feels, kept on the case for the queues (filters and "most upset first").

The reading is made by the floors above (insight scores the customer's words and finds repeat
failures); they write it here through this service. It is derived data: no version bump and no
timeline event (the reading itself is shown on the case by its owner)."""

from __future__ import annotations

from collections.abc import Iterable

from amends.cases.models import Case


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


def cases_attention_set_many(
    *, readings: Iterable[tuple[int, float, bool, bool, bool]], batch_size: int = 1000
) -> int:
    """The same for many cases at once (an import batch): (case_id, attention, upset,
    churn_intent, repeat_failure) each; one UPDATE per `batch_size` cases. Returns how many."""
    rows = [
        Case(
            pk=case_id,
            attention=attention,
            upset=upset,
            churn_intent=churn_intent,
            repeat_failure=repeat_failure,
        )
        for case_id, attention, upset, churn_intent, repeat_failure in readings
    ]
    if not rows:
        return 0
    return Case.objects.bulk_update(
        rows, ["attention", "upset", "churn_intent", "repeat_failure"], batch_size=batch_size
    )

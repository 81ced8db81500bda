"""loyalty's reaction to cases opened set-based (`cases_opened_bulk`: an import chunk).

As for promises broken in bulk (`subscribers.on_commitments_broken`): the batch's cases are
queued in one multi-row INSERT for `sweeps.fact_refresh_sweep`, which refreshes each case's fact
and its customer's risk on the worker, instead of per case inside the import.
"""

from __future__ import annotations

from django.utils import timezone

from amends.core import hooks
from amends.core.bulk import insert_rows_new
from amends.core.rows import db_datetime_text
from amends.loyalty.models import FactRefresh


def cases_queue_for_refresh(*, case_ids: tuple[int, ...]) -> None:
    now = db_datetime_text(timezone.now())
    insert_rows_new(
        model=FactRefresh,
        columns=["case_id", "queued_at"],
        rows=[(case_id, now) for case_id in dict.fromkeys(case_ids)],
    )


def on_cases_opened_bulk(payload: hooks.CasesOpenedBulk) -> None:
    cases_queue_for_refresh(case_ids=payload.case_ids)

"""insight's reaction to cases opened set-based (an import chunk).

What `subscribers.on_case_intake_review` and `on_case_opened` do for one case's description,
for a batch, in two parts:

1. `on_cases_intake_review_bulk` (before the chunk is written, on the importing thread): the
   scorer is run over the open cases' descriptions (their titles when empty), and the reading
   the queues filter and sort by (attention, upset, churn intent) is handed to the intake,
   which writes it with the case; the analyses are kept in the review's notes.
2. `on_cases_opened_bulk` (after the chunk committed): from those notes and the written ids,
   one multi-row INSERT of the description scores and one of the cases' insight rows. No read
   of the cases and no UPDATE of them. When the review found nothing to hand back (it failed,
   or the batch was opened without one), the cases are read and scored here and their reading
   is copied onto them through cases' `cases_attention_set_many`.

Cases imported already resolved or closed are history that no queue shows: they are not scored
(the scorer costs about 0.3 ms a text, more than the rest of the import of a row). Idempotent:
a case already scored is skipped by the database (ON CONFLICT DO NOTHING). Repeat detection and
triage are per-case work for live intake and are not run here (imported records carry their
own category). `message_scored` is not announced per case: loyalty queues the whole batch for
its refresh.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, NamedTuple

from django.db import transaction
from django.utils import timezone

from amends.cases.choices import DONE_STATUSES
from amends.cases.models import Case
from amends.cases.services.attention import cases_attention_set_many
from amends.core import hooks
from amends.core.bulk import insert_rows_new
from amends.core.rows import db_datetime_text, db_json, insert_rows
from amends.insight.choices import TextSource
from amends.insight.models import CaseInsight, TextScore
from amends.insight.scoring import TextAnalysis
from amends.insight.services.scoring import priority_from, text_analyse_configured

logger = logging.getLogger(__name__)

NOTES = "insight"

_SCORE_COLUMNS = [
    "case_id",
    "source",
    "intensity",
    "labels",
    "upset",
    "churn_intent",
    "escalation_threat",
    "repeat_mention",
    "phrases",
    "enough_text",
    "model_version",
    "created_at",
    "updated_at",
]
_INSIGHT_COLUMNS = [
    "case_id",
    "intensity",
    "upset",
    "churn_intent",
    "escalation_threat",
    "repeat",
    "double_deviation",
    "priority",
    "created_at",
    "updated_at",
]


class _Reading(NamedTuple):
    intensity: float
    upset: bool
    churn_intent: bool
    escalation_threat: bool


def _reading(analysis: TextAnalysis) -> tuple[_Reading, float]:
    """The case's reading of an analysis and its queue priority (no model instance: this runs
    for every open case of an import)."""
    reading = _Reading(
        max(0.0, min(1.0, analysis.intensity)),
        analysis.upset,
        analysis.churn_intent,
        analysis.escalation_threat,
    )
    return reading, priority_from(**reading._asdict())


def on_cases_intake_review_bulk(review: hooks.CasesIntakeReviewBulk) -> None:
    """Read the open cases' words before they are written; a failure is logged and the batch
    is read after its commit instead (`on_cases_opened_bulk`)."""
    try:
        analyses: list[TextAnalysis | None] = []
        for index, ((title, description), is_open) in enumerate(
            zip(review.texts, review.open, strict=True)
        ):
            if not is_open:
                analyses.append(None)
                continue
            analysis = text_analyse_configured(description or title)
            insight, priority = _reading(analysis)
            review.readings[index] = hooks.BulkReading(
                attention=priority, upset=insight.upset, churn_intent=insight.churn_intent
            )
            analyses.append(analysis)
        review.notes[NOTES] = analyses
    except Exception:
        for index in range(len(review.readings)):
            review.readings[index] = None
        review.notes.pop(NOTES, None)
        logger.exception("insight could not read %d cases being imported", len(review.texts))


@transaction.atomic
def scores_write_many(*, case_ids: Sequence[int], analyses: Sequence[TextAnalysis | None]) -> int:
    """Write the description scores and insight rows of written cases from the analyses their
    intake review made (None for a case not scored); returns how many cases were scored."""
    now = db_datetime_text(timezone.now())
    scores = []
    insights = []
    for pk, analysis in zip(case_ids, analyses, strict=True):
        if analysis is None:
            continue
        insight, priority = _reading(analysis)
        scores.append(_score_row(pk, insight, analysis, now))
        insights.append(_insight_row(pk, insight, priority, now))
    insert_rows_new(model=TextScore, columns=_SCORE_COLUMNS, rows=scores)
    insert_rows_new(model=CaseInsight, columns=_INSIGHT_COLUMNS, rows=insights)
    return len(scores)


def _score_row(pk: int, insight: _Reading, analysis: TextAnalysis, now: Any) -> tuple[Any, ...]:
    return (
        pk,
        TextSource.DESCRIPTION,
        insight.intensity,
        db_json(list(analysis.labels)),
        analysis.upset,
        analysis.churn_intent,
        analysis.escalation_threat,
        analysis.repeat_mention,
        db_json([p.as_dict() for p in analysis.phrases]),
        analysis.enough_text,
        analysis.model_version,
        now,
        now,
    )


def _insight_row(pk: int, insight: _Reading, priority: float, now: Any) -> tuple[Any, ...]:
    return (
        pk,
        insight.intensity,
        insight.upset,
        insight.churn_intent,
        insight.escalation_threat,
        False,
        False,
        priority,
        now,
        now,
    )


@transaction.atomic
def descriptions_score_many(*, case_ids: tuple[int, ...]) -> int:
    """Score the descriptions of these cases that are open (their titles when empty) and copy
    the reading onto the cases; returns how many were scored."""
    now = db_datetime_text(timezone.now())
    scores = []
    insights = []
    readings: list[tuple[int, float, bool, bool, bool]] = []
    for start in range(0, len(case_ids), 5000):
        rows = (
            Case.objects.filter(pk__in=case_ids[start : start + 5000])
            .exclude(status__in=DONE_STATUSES)
            .values_list("pk", "description", "title")
        )
        for pk, description, title in rows:
            analysis = text_analyse_configured(description or title)
            insight, priority = _reading(analysis)
            scores.append(_score_row(pk, insight, analysis, now))
            insights.append(_insight_row(pk, insight, priority, now))
            readings.append((pk, priority, insight.upset, insight.churn_intent, False))
    insert_rows(model=TextScore, columns=_SCORE_COLUMNS, rows=scores, skip_conflicts=True)
    inserted = insert_rows(
        model=CaseInsight,
        columns=_INSIGHT_COLUMNS,
        rows=insights,
        skip_conflicts=True,
        returning=["case_id"],
    )
    # Only the cases read for the first time: a case scored before may have moved on since.
    first = {row[0] for row in inserted}
    cases_attention_set_many(readings=[r for r in readings if r[0] in first])
    return len(scores)


def on_cases_opened_bulk(payload: hooks.CasesOpenedBulk) -> None:
    """After the batch committed: a failure is logged and loses no case."""
    try:
        analyses = payload.notes.get(NOTES)
        if analyses is not None:
            scores_write_many(case_ids=payload.case_ids, analyses=analyses)
        else:
            descriptions_score_many(case_ids=payload.case_ids)
    except Exception:
        logger.exception("insight could not score %d imported cases", len(payload.case_ids))

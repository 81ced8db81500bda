"""insight's reaction to cases opened set-based (`cases_opened_bulk`: an import chunk).

What `subscribers.on_case_opened` does for one case's description, for a batch: one read of the
batch's open cases' texts, the scorer run over them, then one multi-row INSERT of the
description scores and one of the cases' insight rows, and the reading copied onto the cases
(attention, upset, churn intent: what the queues filter and sort by) through cases'
`cases_attention_set_many`, one statement for the batch. Cases imported
already resolved or closed are history that no queue shows: they are not scored (the scorer
costs about 0.3 ms a text, more than the rest of the import of a row). Idempotent: a case
already scored is skipped by the database (ON CONFLICT DO NOTHING). Repeat detection and triage are per-case
work for live intake and are not run here (imported records carry their own category).
`message_scored` is not announced per case: loyalty queues the whole batch for its refresh.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from amends.cases.choices import DONE_STATUSES
from amends.cases.models import Case
from amends.cases.services.attention import cases_attention_set_many
from amends.core import hooks
from amends.core.rows import db_datetime, db_json, insert_rows
from amends.insight.choices import TextSource
from amends.insight.models import CaseInsight, TextScore
from amends.insight.services.scoring import priority_of, text_analyse_configured

logger = logging.getLogger(__name__)


@transaction.atomic
def descriptions_score_many(*, case_ids: tuple[int, ...]) -> int:
    """Score the descriptions of these cases that are open (their titles when empty); returns
    how many."""
    now = db_datetime(timezone.now())
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
            intensity = max(0.0, min(1.0, analysis.intensity))
            scores.append(
                (
                    pk,
                    TextSource.DESCRIPTION,
                    intensity,
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
            )
            insight = CaseInsight(
                case_id=pk,
                intensity=intensity,
                upset=analysis.upset,
                churn_intent=analysis.churn_intent,
                escalation_threat=analysis.escalation_threat,
            )
            priority = priority_of(insight)
            insights.append(
                (
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
            )
            readings.append((pk, priority, insight.upset, insight.churn_intent, False))
    insert_rows(
        model=TextScore,
        columns=[
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
        ],
        rows=scores,
        skip_conflicts=True,
    )
    inserted = insert_rows(
        model=CaseInsight,
        columns=[
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
        ],
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
        descriptions_score_many(case_ids=payload.case_ids)
    except Exception:
        logger.exception("insight could not score %d imported cases", len(payload.case_ids))

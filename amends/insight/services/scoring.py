"""Scoring customers' words: the description of a new case and every message from the customer.

A score is written in the caller's transaction (the hooks run in-transaction), the case's
insight row (what queues sort by) follows it, and `message_scored` tells the floors above
(loyalty updates the customer's risk)."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from amends.cases.models import Case, Message
from amends.cases.services.attention import case_attention_set
from amends.core import hooks
from amends.core.conf import amends_setting
from amends.core.exceptions import ApplicationError
from amends.core.rows import instance_insert
from amends.insight import ml
from amends.insight.choices import EmotionLabel, TextSource
from amends.insight.models import CaseInsight, TextScore
from amends.insight.scoring import TextAnalysis, text_analyse

logger = logging.getLogger(__name__)


def emotion_model() -> ml.TrainedModel | None:
    path = amends_setting("EMOTION_MODEL", "")
    return ml.model_cached(path, kind=ml.EMOTION) if path else None


def text_analyse_configured(text: str) -> TextAnalysis:
    """The built-in scorer, with the organisation's trained upset model when one is configured."""
    model = emotion_model()
    if model is None:
        return text_analyse(text)
    probability = model.upset_probability(text)
    analysis = text_analyse(text, upset_probability=probability)
    analysis.extra["upset_probability"] = round(probability, 4)
    return _versioned(analysis, model.version)


def _versioned(analysis: TextAnalysis, version: str) -> TextAnalysis:
    from dataclasses import replace

    return replace(analysis, model_version=f"{analysis.model_version}+{version}"[:80])


def priority_of(insight: CaseInsight) -> float:
    return priority_from(
        intensity=insight.intensity,
        upset=insight.upset,
        churn_intent=insight.churn_intent,
        escalation_threat=insight.escalation_threat,
        repeat=insight.repeat,
        double_deviation=insight.double_deviation,
    )


def priority_from(
    *,
    intensity: float,
    upset: bool,
    churn_intent: bool,
    escalation_threat: bool,
    repeat: bool = False,
    double_deviation: bool = False,
) -> float:
    """The queue priority of a reading (configurable weights, INSIGHT_QUEUE_WEIGHTS)."""
    weights: dict[str, float] = amends_setting("INSIGHT_QUEUE_WEIGHTS", {}) or {}
    return round(
        weights.get("upset", 1.0) * intensity * (1.0 if upset else 0.5)
        + weights.get("churn_intent", 1.0) * churn_intent
        + weights.get("escalation_threat", 0.8) * escalation_threat
        + weights.get("repeat", 0.8) * repeat
        + weights.get("double_deviation", 1.0) * double_deviation,
        4,
    )


def case_insight_apply(
    *,
    case_id: int,
    score: TextScore | None = None,
    repeat: bool | None = None,
    double_deviation: bool | None = None,
    known_new: bool = False,
    sync_case: bool = True,
) -> CaseInsight:
    """Fold a new score or repeat finding into the case's insight row. The latest words set the
    mood (intensity, upset); churn intent and threats, once said, stay until the case closes.
    The reading is copied onto the case (what the queues filter and sort on) unless
    `sync_case` is False (the intake already saved the case with it).
    `known_new`: the caller knows the row does not exist yet (a case just opened)."""
    insight = (
        None
        if known_new
        else CaseInsight.objects.select_for_update().filter(case_id=case_id).first()
    )
    created = insight is None
    if insight is None:
        insight = CaseInsight(case_id=case_id)
    if score is not None:
        insight.intensity = score.intensity
        insight.upset = score.effective_upset
        insight.churn_intent = insight.churn_intent or score.churn_intent
        insight.escalation_threat = insight.escalation_threat or score.escalation_threat
    if repeat is not None:
        insight.repeat = insight.repeat or repeat
    if double_deviation is not None:
        insight.double_deviation = insight.double_deviation or double_deviation
    insight.priority = priority_of(insight)
    if created:
        instance_insert(insight)
    else:
        insight.save()
    if sync_case:
        case_attention_set(
            case_id=case_id,
            attention=insight.priority,
            upset=insight.upset,
            churn_intent=insight.churn_intent,
            repeat_failure=insight.repeat,
        )
    return insight


def _score_row(
    *, case: Case, message: Message | None, text: str, analysis: TextAnalysis
) -> TextScore:
    return TextScore(
        case=case,
        message=message,
        source=TextSource.MESSAGE if message is not None else TextSource.DESCRIPTION,
        intensity=max(0.0, min(1.0, analysis.intensity)),
        labels=list(analysis.labels),
        upset=analysis.upset,
        churn_intent=analysis.churn_intent,
        escalation_threat=analysis.escalation_threat,
        repeat_mention=analysis.repeat_mention,
        phrases=[p.as_dict() for p in analysis.phrases],
        enough_text=analysis.enough_text,
        model_version=analysis.model_version,
    )


def _emit(score: TextScore, customer_id: int, *, at_intake: bool = False) -> None:
    hooks.message_scored.emit(
        hooks.MessageScored(
            case_id=score.case_id,
            customer_id=customer_id,
            message_id=score.message_id,
            intensity=score.intensity,
            upset=score.effective_upset,
            churn_intent=score.churn_intent,
            escalation_threat=score.escalation_threat,
            at_intake=at_intake,
        )
    )


def description_score_write(
    *,
    case: Case,
    insight_exists: bool = True,
    analysis: TextAnalysis | None = None,
    sync_case: bool = True,
    at_intake: bool = False,
    repeat: bool | None = None,
    double_deviation: bool | None = None,
) -> TextScore:
    """Score a new case's account of what happened (its title when there is no description).
    `analysis`: the reading already made at intake. `at_intake`: called from the `case_opened`
    reaction (`MessageScored.at_intake`). `repeat`, `double_deviation`: repeat findings folded
    into the case's insight row with the score. The caller holds a transaction; a second score
    of the same description is refused by the database (one description score per case)."""
    text = case.description or case.title
    if analysis is None:
        analysis = text_analyse_configured(text)
    score = _score_row(case=case, message=None, text=text, analysis=analysis)
    instance_insert(score)
    case_insight_apply(
        case_id=case.pk,
        score=score,
        repeat=repeat,
        double_deviation=double_deviation,
        known_new=not insight_exists,
        sync_case=sync_case,
    )
    _emit(score, case.customer_id, at_intake=at_intake)
    return score


@transaction.atomic
def case_description_score(*, case: Case) -> TextScore | None:
    """Score a case's description once (None if it already has its score)."""
    if TextScore.objects.filter(case=case, message__isnull=True).exists():
        return None
    return description_score_write(case=case)


@transaction.atomic
def message_score(*, message: Message, customer_id: int) -> TextScore:
    """Score one message from the customer (idempotent: a scored message keeps its score)."""
    existing = TextScore.objects.filter(message=message).first()
    if existing is not None:
        return existing
    case = message.case
    score = _score_row(
        case=case,
        message=message,
        text=message.body,
        analysis=text_analyse_configured(message.body),
    )
    instance_insert(score)
    case_insight_apply(case_id=case.pk, score=score)
    _emit(score, customer_id)
    return score


def _labels_clean(labels: list[str] | None) -> list[str] | None:
    if labels is None:
        return None
    unknown = sorted({label for label in labels if label not in EmotionLabel.values})
    if unknown:
        raise ApplicationError(
            f"Unknown label {', '.join(unknown)}.",
            code="invalid_label",
            status=422,
            detail={"labels": [f"Choose from {', '.join(EmotionLabel.values)}."]},
        )
    if not labels:
        raise ApplicationError(
            "Give at least one label.",
            code="invalid_label",
            status=422,
            detail={"labels": ["At least one label."]},
        )
    return sorted(set(labels))


@transaction.atomic
def text_score_correct(
    *, score: TextScore, actor: User, labels: list[str] | None = None, upset: bool | None = None
) -> TextScore:
    """An agent corrects what the scorer read; the correction becomes training data."""
    clean = _labels_clean(labels)
    if clean is None and upset is None:
        raise ApplicationError(
            "Nothing to correct: give labels, upset or both.", code="invalid_correction", status=422
        )
    score = TextScore.objects.select_for_update().get(pk=score.pk)
    before: dict[str, Any] = {"labels": score.effective_labels, "upset": score.effective_upset}
    if clean is not None:
        score.corrected_labels = clean
    if upset is not None:
        score.corrected_upset = upset
    score.corrected_by = actor
    score.corrected_at = timezone.now()
    score.save(
        update_fields=[
            "corrected_labels",
            "corrected_upset",
            "corrected_by",
            "corrected_at",
            "updated_at",
        ]
    )
    latest = TextScore.objects.filter(case_id=score.case_id).order_by("-created_at", "-id").first()
    if latest is not None and latest.pk == score.pk:
        case_insight_apply(case_id=score.case_id, score=score)
    logger.info(
        "score %s corrected by %s: %s -> labels %s, upset %s",
        score.pk,
        actor.username,
        before,
        score.effective_labels,
        score.effective_upset,
    )
    return score

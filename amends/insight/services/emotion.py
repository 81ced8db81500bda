"""Training and evaluating the upset model on labelled messages (a CSV or agents' corrections)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from amends.core.exceptions import ApplicationError
from amends.insight import ml
from amends.insight.models import TextScore
from amends.insight.scoring import text_analyse
from amends.insight.services.triage import TrainingResult, csv_rows

UPSET = "upset"
NOT_UPSET = "not_upset"


def _binary(label: str, positive: str) -> str:
    return UPSET if label.strip().lower() == positive.strip().lower() else NOT_UPSET


def emotion_csv_rows(
    *, path: Path | str, text_column: str, label_column: str, positive: str
) -> tuple[list[str], list[str]]:
    texts: list[str] = []
    labels: list[str] = []
    for _, text, label in csv_rows(path, text_column=text_column, label_column=label_column):
        texts.append(text)
        labels.append(_binary(label, positive))
    return texts, labels


def emotion_correction_rows(*, limit: int = 50_000) -> tuple[list[str], list[str]]:
    """Texts agents corrected, with the corrected upset flag (or the scorer's, when only the
    labels were corrected: the agent saw it and left it)."""
    rows = (
        TextScore.objects.filter(corrected_at__isnull=False)
        .select_related("message", "case")
        .order_by("-corrected_at")[:limit]
    )
    texts: list[str] = []
    labels: list[str] = []
    for score in rows:
        text = score.message.body if score.message is not None else score.case.description
        if text.strip():
            texts.append(text)
            labels.append(UPSET if score.effective_upset else NOT_UPSET)
    return texts, labels


def emotion_train(
    *, texts: list[str], labels: list[str], out: Path | str, cross_validate: bool = True
) -> TrainingResult:
    try:
        model, evaluation, dropped = ml.model_train(
            ml.EMOTION, texts, labels, cross_validate=cross_validate
        )
    except ml.ModelError as exc:
        raise ApplicationError(str(exc), code="cannot_train", status=422) from exc
    path = ml.model_save(model, out)
    return TrainingResult(model, path, evaluation, dropped)


def emotion_evaluate(
    *, texts: list[str], labels: list[str], model_path: Path | str | None = None
) -> dict[str, Any]:
    """Score the upset flag against labels, with the built-in scorer or a trained model."""
    if model_path:
        try:
            model = ml.model_load(model_path, kind=ml.EMOTION)
        except ml.ModelError as exc:
            raise ApplicationError(str(exc), code="invalid_model", status=422) from exc
        predicted: list[str] = []
        upset_at = model.labels.index(UPSET) if UPSET in model.labels else None
        for start in range(0, len(texts), 500):
            batch = model.predict_proba(texts[start : start + 500])
            predicted += [
                UPSET if upset_at is not None and row[upset_at] >= 0.5 else NOT_UPSET
                for row in batch
            ]
        scorer = model.version
    else:
        predicted = [UPSET if text_analyse(t).upset else NOT_UPSET for t in texts]
        scorer = "built-in"
    evaluation = ml.evaluate(labels, predicted, positive=UPSET)
    return {"scorer": scorer, **evaluation.as_dict()}

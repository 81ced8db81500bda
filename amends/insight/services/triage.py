"""Automatic triage: a suggested category for a new case, and training the model behind it.

At or above the configured confidence a suggestion is applied to a case that has no category
yet (through `case_update`, so the playbook and SLA follow); below it, staff see a suggestion.
Whatever category the agent settles on is kept beside the prediction, which measures the model
and becomes training data. Training runs in the CLI or a task, never in a web request.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from amends.cases.choices import DONE_STATUSES
from amends.cases.models import Case
from amends.cases.services.workflow import case_update
from amends.core.conf import amends_setting
from amends.core.exceptions import ApplicationError
from amends.insight import ml
from amends.insight.models import TriagePrediction
from amends.taxonomy.models import Category

MAX_CSV_FIELD = 1_000_000


def triage_model() -> ml.TrainedModel | None:
    path = amends_setting("TRIAGE_MODEL", "")
    return ml.model_cached(path, kind=ml.TRIAGE) if path else None


def category_id_for_label(label: str) -> int | None:
    """The active category a model label names: its full name ("Billing › Overcharge") or, for a
    label like a CSV's product name, a category of that name (top level first). One fixed
    statement: every case opened with a triage model asks, and the ORM's compiling of the same
    query with its parent joined cost more than the model's prediction."""
    name = label.split("›")[-1].strip()
    quote = connection.ops.quote_name
    table = quote(Category._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT c.id, c.name, c.parent_id, p.name FROM {table} c "  # noqa: S608 - metadata
            f"LEFT JOIN {table} p ON p.id = c.parent_id "
            "WHERE c.active AND UPPER(c.name) = UPPER(%s) ORDER BY c.id LIMIT 20",
            [name],
        )
        candidates = cursor.fetchall()
    wanted = label.strip().lower()
    for pk, own, parent_id, parent in candidates:
        full = f"{parent} › {own}" if parent_id is not None and parent is not None else own
        if full.lower() == wanted:
            return int(pk)
    top = [pk for pk, _, parent_id, _ in candidates if parent_id is None]
    if top:
        return int(top[0])
    return int(candidates[0][0]) if candidates else None


@dataclass(frozen=True)
class Prediction:
    """The configured model's guess for a text: its label, the category that label names
    (None: no such category), the confidence, and whether it is confident enough to apply."""

    label: str
    category_id: int | None
    confidence: float
    threshold: float
    model_version: str

    @property
    def apply(self) -> bool:
        return self.category_id is not None and self.confidence >= self.threshold


def triage_predict(text: str) -> Prediction | None:
    """The category a text suggests, or None without a configured model or without text."""
    model = triage_model()
    if model is None or not text.strip():
        return None
    label, confidence = model.best(text)
    return Prediction(
        label=label,
        category_id=category_id_for_label(label),
        confidence=round(max(0.0, min(1.0, confidence)), 4),
        threshold=float(amends_setting("TRIAGE_APPLY_THRESHOLD", 0.8)),
        model_version=model.version,
    )


@transaction.atomic
def case_triage(*, case: Case) -> TriagePrediction | None:
    """Predict the category of a case that was not triaged at intake; apply it when confident
    and the case has none."""
    if triage_model() is None or TriagePrediction.objects.filter(case=case).exists():
        return None
    guess = triage_predict(f"{case.title}\n{case.description}".strip())
    if guess is None:
        return None
    apply = guess.apply and case.category_id is None
    prediction = TriagePrediction.objects.create(
        case=case,
        label=guess.label[:200],
        category_id=guess.category_id,
        confidence=guess.confidence,
        threshold=guess.threshold,
        applied=apply,
        model_version=guess.model_version[:80],
    )
    if apply:
        case_update(case=case, version=None, actor=None, category=prediction.category)
    return prediction


@transaction.atomic
def triage_choice_record(
    *, case: Case, category: Category | None, actor: User
) -> TriagePrediction | None:
    """Keep the category an agent settled on beside the model's prediction (None: no model
    predicted anything for this case)."""
    prediction = TriagePrediction.objects.select_for_update().filter(case=case).first()
    if prediction is None:
        return None
    prediction.chosen_category = category
    prediction.chosen_by = actor
    prediction.chosen_at = timezone.now()
    prediction.save(update_fields=["chosen_category", "chosen_by", "chosen_at", "updated_at"])
    return prediction


@transaction.atomic
def triage_suggestion_accept(*, case: Case, actor: User) -> Case:
    """An agent takes the suggested category."""
    prediction = TriagePrediction.objects.filter(case=case).first()
    if prediction is None or prediction.category is None:
        raise ApplicationError(
            "There is no suggested category for this case.", code="no_suggestion", status=409
        )
    if not prediction.category.active:
        raise ApplicationError(
            "The suggested category is no longer in use.", code="no_suggestion", status=409
        )
    if case.category_id == prediction.category_id:
        triage_choice_record(case=case, category=prediction.category, actor=actor)
        return case
    return case_update(case=case, version=None, actor=actor, category=prediction.category)


# --- training ---------------------------------------------------------------------------------


@dataclass
class TrainingResult:
    model: ml.TrainedModel
    path: Path
    cross_validated: ml.Evaluation | None
    dropped_labels: list[str]

    def summary(self) -> dict[str, Any]:
        evaluation = self.cross_validated
        return {
            "model": str(self.path),
            "version": self.model.version,
            "n": self.model.meta.get("n", 0),
            "labels": self.model.meta.get("labels", []),
            "dropped_labels": self.dropped_labels,
            "accuracy": round(evaluation.accuracy, 4) if evaluation else None,
            "macro_f1": round(evaluation.macro_f1, 4) if evaluation else None,
            "per_label": evaluation.per_label if evaluation else {},
        }


def csv_rows(
    path: Path | str, *, text_column: str, label_column: str
) -> Iterator[tuple[dict[str, str], str, str]]:
    """(row, text, label) for every row of a CSV with both columns filled in."""
    csv.field_size_limit(min(sys.maxsize, MAX_CSV_FIELD))
    source = Path(path)
    if not source.is_file():
        raise ApplicationError(f"No file at {source}.", code="invalid_file", status=422)
    with source.open(newline="", encoding="utf-8", errors="replace") as handle:
        reader = csv.DictReader(handle)
        columns = reader.fieldnames or []
        missing = [c for c in (text_column, label_column) if c not in columns]
        if missing:
            raise ApplicationError(
                f"{source.name} has no column {', '.join(missing)} "
                f"(it has {', '.join(columns[:20])}).",
                code="invalid_file",
                status=422,
            )
        for row in reader:
            text = (row.get(text_column) or "").strip()
            label = (row.get(label_column) or "").strip()
            if text and label:
                yield row, text, label


def triage_train_from_csv(
    *,
    path: Path | str,
    text_column: str,
    label_column: str,
    out: Path | str,
    cross_validate: bool = True,
    limit: int | None = None,
) -> TrainingResult:
    """Train a triage model on a labelled CSV and save it (the demo trains one from the CFPB
    narratives: text column "Consumer complaint narrative", label column "Product")."""
    texts: list[str] = []
    labels: list[str] = []
    for _, text, label in csv_rows(path, text_column=text_column, label_column=label_column):
        texts.append(text)
        labels.append(label)
        if limit is not None and len(texts) >= limit:
            break
    return _train(texts, labels, out, cross_validate=cross_validate)


def triage_training_rows(*, limit: int = 50_000) -> tuple[list[str], list[str]]:
    """The organisation's resolved and closed cases with a category, newest first (an agent's
    correction of a suggestion is the case's category by then)."""
    rows = (
        Case.objects.filter(status__in=DONE_STATUSES, category__isnull=False)
        .filter(~Q(description=""))
        .select_related("category__parent")
        .only("title", "description", "category__name", "category__parent__name")
        .order_by("-created_at")[:limit]
    )
    texts = [f"{c.title}\n{c.description}" for c in rows]
    labels = [str(c.category) for c in rows]
    return texts, labels


def triage_train_from_cases(*, out: Path | str, cross_validate: bool = True) -> TrainingResult:
    texts, labels = triage_training_rows()
    return _train(texts, labels, out, cross_validate=cross_validate)


def _train(
    texts: list[str], labels: list[str], out: Path | str, *, cross_validate: bool
) -> TrainingResult:
    try:
        model, evaluation, dropped = ml.model_train(
            ml.TRIAGE, texts, labels, cross_validate=cross_validate
        )
    except ml.ModelError as exc:
        raise ApplicationError(str(exc), code="cannot_train", status=422) from exc
    path = ml.model_save(model, out)
    return TrainingResult(model, path, evaluation, dropped)


def triage_evaluate_csv(
    *, path: Path | str, model_path: Path | str, text_column: str, label_column: str
) -> ml.Evaluation:
    try:
        model = ml.model_load(model_path, kind=ml.TRIAGE)
    except ml.ModelError as exc:
        raise ApplicationError(str(exc), code="invalid_model", status=422) from exc
    texts: list[str] = []
    truth: list[str] = []
    for _, text, label in csv_rows(path, text_column=text_column, label_column=label_column):
        texts.append(text)
        truth.append(label)
    predicted: list[str] = []
    for start in range(0, len(texts), 500):
        predicted += model.predict(texts[start : start + 500])
    return ml.evaluate(truth, predicted)

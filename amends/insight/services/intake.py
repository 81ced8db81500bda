"""Insight's part in opening a case, in two steps around the case's first save.

1. `case_intake_review` (the `case_intake_review` hook, before the save): the triage
   prediction, the customer's earlier cases this one repeats and the reading of their words are
   made once, and the intake is advised: the suggested category when confident (so routing, the
   playbook and the SLA follow it), a severity raised for a repeat failure, and the reading the
   queues sort and filter on, all in the case's first INSERT.
2. `case_opened_write` (the `case_opened` hook, after the save): what was found is written
   (prediction, repeat links, score, the case's insight row) and the hooks above are told.

Between the two, the findings wait in a per-thread slot, taken by the case whose customer and
texts match and which was created just after the review; a case opened without a review (or whose intake failed after
it) is read afresh in step 2.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction

from amends.cases.models import Case
from amends.core import hooks
from amends.core.conf import amends_setting
from amends.core.rows import instance_insert
from amends.insight.models import CaseInsight, RepeatLink, TriagePrediction
from amends.insight.scoring import TextAnalysis
from amends.insight.services import scoring
from amends.insight.services.repeats import repeat_links_find, repeat_links_save
from amends.insight.services.scoring import description_score_write, priority_of
from amends.insight.services.triage import Prediction, triage_predict


@dataclass
class IntakeFindings:
    customer_id: int
    created_at: datetime
    title: str
    description: str
    analysis: TextAnalysis
    prediction: Prediction | None = None
    category_applied: bool = False
    links: list[RepeatLink] = field(default_factory=list)
    double: bool = False
    severity_raised: bool = False


_slot = threading.local()
# The case's creation time is stamped at its save, a moment after the review.
MATCH_WITHIN = timedelta(seconds=60)


def _findings_take(case: Case) -> IntakeFindings | None:
    findings: IntakeFindings | None = getattr(_slot, "findings", None)
    _slot.findings = None
    if findings is None:
        return None
    if (
        findings.customer_id != case.customer_id
        or not timedelta(0) <= case.created_at - findings.created_at <= MATCH_WITHIN
        or findings.title != case.title
        or findings.description != case.description
    ):
        return None
    return findings


def case_intake_review(review: hooks.CaseIntakeReview) -> None:
    """Read a case about to be opened and append insight's advice to `review`."""
    _slot.findings = None
    # Predicted even when the intake gave a category: the prediction is kept beside it.
    prediction = triage_predict(f"{review.title}\n{review.description}".strip())
    applied = prediction is not None and prediction.apply and review.category_id is None
    category_id = review.category_id
    if applied and prediction is not None:
        category_id = prediction.category_id
    text = review.description or review.title
    links, double = repeat_links_find(
        customer_id=review.customer_id,
        category_id=category_id,
        service_id=review.service_id,
        text=text,
        now=review.now,
    )
    analysis = scoring.text_analyse_configured(text)
    step = int(amends_setting("REPEAT_SEVERITY_STEP", 1))
    severity = None
    if links and step > 0 and review.severity > 1:
        severity = max(1, review.severity - step)
    reading = CaseInsight(
        intensity=max(0.0, min(1.0, analysis.intensity)),
        upset=analysis.upset,
        churn_intent=analysis.churn_intent,
        escalation_threat=analysis.escalation_threat,
        repeat=bool(links),
        double_deviation=double,
    )
    notes = []
    if applied and prediction is not None:
        notes.append(
            f"category {prediction.label} suggested by triage "
            f"(confidence {prediction.confidence:.2f})"
        )
    if severity is not None:
        notes.append(f"severity {review.severity} → {severity}: a repeat failure")
    review.advice.append(
        hooks.IntakeAdvice(
            source="insight",
            category_id=prediction.category_id if applied and prediction is not None else None,
            severity=severity,
            attention=priority_of(reading),
            upset=reading.upset,
            churn_intent=reading.churn_intent,
            repeat_failure=reading.repeat,
            note="; ".join(notes),
        )
    )
    _slot.findings = IntakeFindings(
        customer_id=review.customer_id,
        created_at=review.now,
        title=review.title,
        description=review.description,
        analysis=analysis,
        prediction=prediction,
        category_applied=applied,
        links=links,
        double=double,
        severity_raised=severity is not None,
    )


# The fields of a new case `case_opened_write` reads (the rest may be deferred).
OPENED_FIELDS = ("customer", "category", "title", "description", "created_at")


def case_opened_write(*, case: Case) -> bool:
    """Write what the review found for this new case, in a savepoint. False when there was no
    matching review (the caller reads the case afresh). `case` needs OPENED_FIELDS only."""
    findings = _findings_take(case)
    if findings is None:
        return False
    with transaction.atomic():
        prediction = findings.prediction
        if prediction is not None:
            instance_insert(
                TriagePrediction(
                    case=case,
                    label=prediction.label[:200],
                    category_id=prediction.category_id,
                    confidence=prediction.confidence,
                    threshold=prediction.threshold,
                    applied=findings.category_applied
                    and case.category_id == prediction.category_id,
                    model_version=prediction.model_version[:80],
                )
            )
        if findings.links:
            case = repeat_links_save(
                # the whole case when a double deviation is marked on it (an update)
                case=Case.objects.get(pk=case.pk) if findings.double else case,
                links=findings.links,
                double=findings.double,
                raise_severity=False,
                sync_case=False,
                at_intake=True,
                insight_row=False,  # written once below, with the score
            )
        description_score_write(
            case=case,
            insight_exists=False,
            analysis=findings.analysis,
            # The intake saved the case with this reading; a double deviation marked just now
            # does not change the queue flags.
            sync_case=False,
            at_intake=True,
            repeat=True if findings.links else None,
            double_deviation=findings.double if findings.links else None,
        )
    return True

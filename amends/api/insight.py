"""Insight over the API: analyse a text, check a reply, a case's scores, flags, suggestion and
repeats, correct a score, take a suggested category, the upset-first queue, coaching figures."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from django.utils import timezone
from ninja import Query, Router, Schema
from pydantic import Field

from amends.api.schemas import ERRORS, Id, InSchema, PageOut
from amends.cases.models import Case
from amends.cases.selectors import case_get_for_user
from amends.core.pagination import paginate
from amends.core.types import AuthedRequest
from amends.insight.apology import apology_check
from amends.insight.models import RepeatLink, TextScore, TriagePrediction
from amends.insight.selectors import (
    apology_pass_rate,
    case_insight_brief_get,
    case_insight_panel,
    insight_queue,
    text_score_get_for_user,
    text_score_list_for_case,
    text_score_list_for_messages,
)
from amends.insight.services.coach import apology_check_record
from amends.insight.services.scoring import text_analyse_configured, text_score_correct
from amends.insight.services.triage import triage_suggestion_accept

router = Router(tags=["insight"])

# Text beyond what the scorer reads is accepted and cut (1 MB at most per request field).
MAX_TEXT = 1_000_000
MAX_DRAFT = 50_000
LabelLit = Literal["anger", "frustration", "anxiety", "disappointment", "neutral", "positive"]
FlagLit = Literal["all", "upset", "churn", "escalation", "repeat"]


class PhraseOut(Schema):
    signal: str
    text: str


class AnalyseIn(InSchema):
    text: str = Field(max_length=MAX_TEXT)


class AnalyseOut(Schema):
    intensity: float
    labels: list[str]
    upset: bool
    churn_intent: bool
    escalation_threat: bool
    repeat_mention: bool
    phrases: list[PhraseOut]
    enough_text: bool
    model_version: str


class ApologyCheckIn(InSchema):
    draft: str = Field(max_length=MAX_DRAFT)
    customer_text: str = Field(default="", max_length=MAX_TEXT)
    case: str | None = Field(
        default=None,
        max_length=30,
        description="A case reference: the check is recorded for coaching, and without "
        "customer_text the customer's latest message is used.",
    )


class FindingOut(Schema):
    code: str
    message: str
    suggestion: str


class ApologyCheckOut(Schema):
    passes: bool
    findings: list[FindingOut]
    customer_upset: bool


class ScoreOut(Schema):
    id: int
    source: str
    message_id: int | None
    intensity: float
    labels: list[str]
    upset: bool
    churn_intent: bool
    escalation_threat: bool
    repeat_mention: bool
    phrases: list[PhraseOut]
    enough_text: bool
    model_version: str
    corrected: bool
    created_at: datetime


class TriageOut(Schema):
    label: str
    category: str | None
    confidence: float
    threshold: float
    applied: bool
    model_version: str
    chosen_category: str | None
    chosen_by: str | None
    chosen_at: datetime | None
    agreed: bool | None


class RepeatOut(Schema):
    case: str
    earlier_case: str
    earlier_title: str
    reasons: list[str]
    similarity: float
    broken_promise: bool


class CaseInsightOut(Schema):
    case: str
    intensity: float
    upset: bool
    churn_intent: bool
    escalation_threat: bool
    repeat: bool
    double_deviation: bool
    priority: float
    phrases: list[PhraseOut]
    description_score: ScoreOut | None
    latest_score: ScoreOut | None
    triage: TriageOut | None
    repeats: list[RepeatOut]
    repeated_by: list[RepeatOut]


class ScoreCorrectIn(InSchema):
    labels: list[LabelLit] | None = Field(default=None, max_length=6)
    upset: bool | None = None


class QueueQuery(InSchema):
    flag: FlagLit = "upset"
    team_id: Id | None = None
    page: int = Field(default=1, ge=1, le=100_000)
    size: int | None = Field(default=None, ge=1, le=200)


class QueueItemOut(Schema):
    ref: str
    title: str
    status: str
    severity: int
    customer: str
    team: str | None
    assignee: str | None
    sla_due_at: datetime | None
    intensity: float
    upset: bool
    churn_intent: bool
    escalation_threat: bool
    repeat: bool
    double_deviation: bool
    priority: float


class CoachingQuery(InSchema):
    since: datetime | None = None
    until: datetime | None = None


class PassRateOut(Schema):
    username: str
    first_drafts: int
    passed: int
    pass_rate: float | None


def score_out(score: TextScore) -> dict[str, Any]:
    return {
        "id": score.pk,
        "source": score.source,
        "message_id": score.message_id,
        "intensity": score.intensity,
        "labels": score.effective_labels,
        "upset": score.effective_upset,
        "churn_intent": score.churn_intent,
        "escalation_threat": score.escalation_threat,
        "repeat_mention": score.repeat_mention,
        "phrases": score.phrases,
        "enough_text": score.enough_text,
        "model_version": score.model_version,
        "corrected": score.corrected_at is not None,
        "created_at": score.created_at,
    }


def triage_out(prediction: TriagePrediction) -> dict[str, Any]:
    return {
        "label": prediction.label,
        "category": str(prediction.category) if prediction.category else None,
        "confidence": prediction.confidence,
        "threshold": prediction.threshold,
        "applied": prediction.applied,
        "model_version": prediction.model_version,
        "chosen_category": str(prediction.chosen_category) if prediction.chosen_category else None,
        "chosen_by": prediction.chosen_by.username if prediction.chosen_by else None,
        "chosen_at": prediction.chosen_at,
        "agreed": prediction.agreed,
    }


def repeat_out(link: RepeatLink) -> dict[str, Any]:
    return {
        "case": link.case.ref,
        "earlier_case": link.earlier_case.ref,
        "earlier_title": link.earlier_case.title,
        "reasons": link.reasons,
        "similarity": link.similarity,
        "broken_promise": link.broken_promise,
    }


def case_insight_out(case: Case) -> dict[str, Any]:
    panel = case_insight_panel(case=case)
    insight = panel.insight
    return {
        "case": case.ref,
        "intensity": insight.intensity if insight else 0.0,
        "upset": insight.upset if insight else False,
        "churn_intent": insight.churn_intent if insight else False,
        "escalation_threat": insight.escalation_threat if insight else False,
        "repeat": insight.repeat if insight else False,
        "double_deviation": case.double_deviation,
        "priority": insight.priority if insight else 0.0,
        "phrases": panel.phrases,
        "description_score": score_out(panel.description_score)
        if panel.description_score
        else None,
        "latest_score": score_out(panel.latest_score) if panel.latest_score else None,
        "triage": triage_out(panel.prediction) if panel.prediction else None,
        "repeats": [repeat_out(link) for link in panel.repeats],
        "repeated_by": [repeat_out(link) for link in panel.repeated_by],
    }


@router.post("/analyse", response={200: AnalyseOut, **ERRORS}, summary="Score a text")
def insight_analyse_endpoint(request: AuthedRequest, payload: AnalyseIn) -> dict[str, Any]:
    """Emotion and intent of any text (nothing is stored): intensity 0-1, labels, upset, churn
    intent, escalation threat and the phrases that triggered them. Text too short to judge
    answers `enough_text: false` with a neutral score."""
    return text_analyse_configured(payload.text).as_dict()


@router.post(
    "/apology-check", response={200: ApologyCheckOut, **ERRORS}, summary="Check a draft reply"
)
def insight_apology_check_endpoint(
    request: AuthedRequest, payload: ApologyCheckIn
) -> dict[str, Any]:
    """Findings of the apology coach on a draft; never blocks sending. With `case`, the check is
    recorded for the first-draft pass rate."""
    if payload.case:
        case = case_get_for_user(ref=payload.case, user=request.user)
        report, _ = apology_check_record(
            case=case,
            author=request.user,
            draft=payload.draft,
            customer_text=payload.customer_text or None,
        )
    else:
        report = apology_check(payload.draft, payload.customer_text)
    return report.as_dict()


@router.get("/cases/{ref}", response={200: CaseInsightOut, **ERRORS}, summary="Insight on a case")
def insight_case_endpoint(request: AuthedRequest, ref: str) -> dict[str, Any]:
    case = case_get_for_user(ref=ref, user=request.user)
    return case_insight_out(case)


@router.get(
    "/cases/{ref}/scores",
    response={200: PageOut[ScoreOut], **ERRORS},
    summary="Scores of a case's description and customer messages",
)
def insight_case_scores_endpoint(
    request: AuthedRequest,
    ref: str,
    page: int = Query(1, ge=1, le=100_000),  # type: ignore[type-arg]
    size: int | None = Query(None, ge=1, le=200),  # type: ignore[type-arg]
) -> dict[str, Any]:
    case = case_get_for_user(ref=ref, user=request.user)
    result = paginate(text_score_list_for_case(case=case), page=page, size=size)
    return {
        "items": [score_out(s) for s in result.items],
        "page": result.page,
        "size": result.size,
        "has_next": result.has_next,
    }


@router.post(
    "/scores/{score_id}/correct",
    response={200: ScoreOut, **ERRORS},
    summary="Correct a score's labels or upset flag",
)
def insight_score_correct_endpoint(
    request: AuthedRequest, score_id: Id, payload: ScoreCorrectIn
) -> dict[str, Any]:
    score = text_score_get_for_user(score_id=score_id, user=request.user)
    labels = [str(label) for label in payload.labels] if payload.labels is not None else None
    score = text_score_correct(score=score, actor=request.user, labels=labels, upset=payload.upset)
    return score_out(score)


@router.post(
    "/cases/{ref}/triage/accept",
    response={200: CaseInsightOut, **ERRORS},
    summary="Take the suggested category",
)
def insight_triage_accept_endpoint(request: AuthedRequest, ref: str) -> dict[str, Any]:
    case = case_get_for_user(ref=ref, user=request.user)
    case = triage_suggestion_accept(case=case, actor=request.user)
    return case_insight_out(case_get_for_user(ref=case.ref, user=request.user))


@router.get(
    "/queue",
    response={200: PageOut[QueueItemOut], **ERRORS},
    summary="Open cases, most upset or at risk first",
)
def insight_queue_endpoint(request: AuthedRequest, query: Query[QueueQuery]) -> dict[str, Any]:
    cases = insight_queue(user=request.user, flag=query.flag, team_id=query.team_id)
    result = paginate(cases, page=query.page, size=query.size)
    items = []
    for case in result.items:
        insight = getattr(case, "insight", None)
        items.append(
            {
                "ref": case.ref,
                "title": case.title,
                "status": case.status,
                "severity": case.severity,
                "customer": case.customer.name,
                "team": case.team.name if case.team else None,
                "assignee": case.assignee.username if case.assignee else None,
                "sla_due_at": case.sla_due_at,
                "intensity": insight.intensity if insight else 0.0,
                "upset": insight.upset if insight else False,
                "churn_intent": insight.churn_intent if insight else False,
                "escalation_threat": insight.escalation_threat if insight else False,
                "repeat": insight.repeat if insight else False,
                "double_deviation": case.double_deviation,
                "priority": insight.priority if insight else 0.0,
            }
        )
    return {
        "items": items,
        "page": result.page,
        "size": result.size,
        "has_next": result.has_next,
    }


@router.get(
    "/coaching",
    response={200: list[PassRateOut], **ERRORS},
    summary="First-draft pass rate of the apology coach",
)
def insight_coaching_endpoint(
    request: AuthedRequest, query: Query[CoachingQuery]
) -> list[dict[str, Any]]:
    """Per person over a period (default: the last 30 days). Managers see everyone, supervisors
    their team, agents themselves."""
    until = query.until or timezone.now()
    since = query.since or until - timedelta(days=30)
    return [
        {
            "username": r.username,
            "first_drafts": r.first_drafts,
            "passed": r.passed,
            "pass_rate": r.rate,
        }
        for r in apology_pass_rate(user=request.user, since=since, until=until)
    ]


# --- pieces of the cases API's outputs (amends/api/cases.py) ----------------------------------


class TriageBriefOut(Schema):
    label: str
    category: str | None
    confidence: float
    applied: bool


class CaseInsightBriefOut(Schema):
    """Insight on a case, in the case's own output (details at /api/v1/insight/cases/{ref})."""

    intensity: float
    upset: bool
    churn_intent: bool
    escalation_threat: bool
    repeat: bool
    priority: float
    triage: TriageBriefOut | None


class MessageScoreOut(Schema):
    intensity: float
    labels: list[str]
    upset: bool
    churn_intent: bool
    escalation_threat: bool
    phrases: list[PhraseOut]


def case_insight_brief(case: Case) -> dict[str, Any] | None:
    """One query: the case's insight row and triage prediction, both optional."""
    brief = case_insight_brief_get(case_id=case.pk)
    if brief is None:
        return None
    insight, prediction = brief
    return {
        "intensity": insight.intensity if insight else 0.0,
        "upset": insight.upset if insight else False,
        "churn_intent": insight.churn_intent if insight else False,
        "escalation_threat": insight.escalation_threat if insight else False,
        "repeat": insight.repeat if insight else False,
        "priority": insight.priority if insight else 0.0,
        "triage": {
            "label": prediction.label,
            "category": str(prediction.category) if prediction.category else None,
            "confidence": prediction.confidence,
            "applied": prediction.applied,
        }
        if prediction
        else None,
    }


def message_scores(message_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Scores of these messages (one query), by message id; outbound ones have none."""
    return {
        score.message_id: {
            "intensity": score.intensity,
            "labels": score.effective_labels,
            "upset": score.effective_upset,
            "churn_intent": score.churn_intent,
            "escalation_threat": score.escalation_threat,
            "phrases": score.phrases,
        }
        for score in text_score_list_for_messages(message_ids=message_ids)
        if score.message_id is not None
    }

"""Reads of insight's tables; visibility always through the cases app's rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Count, Q, QuerySet

from amends.accounts.choices import Role
from amends.accounts.selectors import staff_profile_of
from amends.cases.models import Case
from amends.cases.selectors import case_visible_to
from amends.core.exceptions import ApplicationError
from amends.insight.choices import QueueFlag
from amends.insight.models import ApologyCheck, CaseInsight, RepeatLink, TextScore, TriagePrediction

MAX_ID = 2**63 - 1
QUEUE_FILTERS: dict[str, Q] = {
    QueueFlag.ALL: Q(),
    QueueFlag.UPSET: Q(insight__upset=True),
    QueueFlag.CHURN: Q(insight__churn_intent=True),
    QueueFlag.ESCALATION: Q(insight__escalation_threat=True),
    QueueFlag.REPEAT: Q(insight__repeat=True),
}


@dataclass
class CaseInsightPanel:
    """Everything insight knows about one case, for the case page and the API."""

    insight: CaseInsight | None
    description_score: TextScore | None
    latest_score: TextScore | None
    prediction: TriagePrediction | None
    repeats: list[RepeatLink] = field(default_factory=list)
    repeated_by: list[RepeatLink] = field(default_factory=list)

    @property
    def phrases(self) -> list[dict[str, str]]:
        """The phrases that fired, newest text first, each once."""
        seen: set[tuple[str, str]] = set()
        out: list[dict[str, str]] = []
        for score in (self.latest_score, self.description_score):
            for phrase in score.phrases if score is not None else []:
                key = (phrase.get("signal", ""), phrase.get("text", "").lower())
                if key not in seen:
                    seen.add(key)
                    out.append(phrase)
        return out


def case_insight_panel(*, case: Case) -> CaseInsightPanel:
    """Insight of a case the caller may already see (5 queries, whatever the case's size)."""
    insight = CaseInsight.objects.filter(case_id=case.pk).first()
    scores = list(
        TextScore.objects.filter(case_id=case.pk)
        .filter(Q(message__isnull=True) | Q(pk__in=_latest_message_score(case)))
        .order_by("created_at", "id")
    )
    description = next((s for s in scores if s.message_id is None), None)
    latest = scores[-1] if scores else None
    prediction = (
        TriagePrediction.objects.filter(case_id=case.pk)
        .select_related("category__parent", "chosen_category__parent", "chosen_by")
        .first()
    )
    links = list(
        RepeatLink.objects.filter(Q(case_id=case.pk) | Q(earlier_case_id=case.pk))
        .select_related("case", "earlier_case")
        .order_by("-earlier_case__created_at")[:50]
    )
    return CaseInsightPanel(
        insight=insight,
        description_score=description,
        latest_score=latest,
        prediction=prediction,
        repeats=[link for link in links if link.case_id == case.pk],
        repeated_by=[link for link in links if link.earlier_case_id == case.pk],
    )


def _latest_message_score(case: Case) -> QuerySet[TextScore, dict[str, Any]]:
    return (
        TextScore.objects.filter(case_id=case.pk, message__isnull=False)
        .order_by("-created_at", "-id")
        .values("pk")[:1]  # type: ignore[return-value]  # a one-column subquery
    )


def text_score_list_for_case(*, case: Case) -> QuerySet[TextScore]:
    """A case's scores in order (paginate the result)."""
    return TextScore.objects.filter(case_id=case.pk).order_by("created_at", "id")


def text_score_list_for_messages(*, message_ids: list[int]) -> list[TextScore]:
    """Scores of these messages (ids the caller has already read through a visible case)."""
    if not message_ids:
        return []
    return list(TextScore.objects.filter(message_id__in=message_ids))


def case_insight_brief_get(
    *, case_id: int
) -> tuple[CaseInsight | None, TriagePrediction | None] | None:
    """The insight row and triage prediction of a case in one query (None: neither exists)."""
    insight = (
        CaseInsight.objects.filter(case_id=case_id)
        .select_related("case__triage_prediction__category__parent")
        .first()
    )
    if insight is not None:
        prediction = getattr(insight.case, "triage_prediction", None)
        return insight, prediction
    prediction = (
        TriagePrediction.objects.filter(case_id=case_id).select_related("category__parent").first()
    )
    return (None, prediction) if prediction is not None else None


def text_score_get_for_user(*, score_id: int, user: User) -> TextScore:
    """A score on a case this user may see; missing and forbidden look the same."""
    if not 1 <= score_id <= MAX_ID:
        raise TextScore.DoesNotExist
    return TextScore.objects.select_related("case", "message").get(
        pk=score_id, case__in=case_visible_to(user=user)
    )


def insight_queue(
    *, user: User, flag: str = QueueFlag.UPSET, team_id: int | None = None
) -> QuerySet[Case]:
    """Open cases this user may see, most upset / at risk first, then nearest SLA due time."""
    if flag not in QUEUE_FILTERS:
        raise ApplicationError(
            f"Unknown flag {flag!r}; use {', '.join(QUEUE_FILTERS)}.",
            code="invalid_filter",
            status=422,
        )
    qs = case_visible_to(user=user).filter(sla_due_at__isnull=False).filter(QUEUE_FILTERS[flag])
    if team_id is not None:
        qs = qs.filter(team_id=team_id)
    return qs.select_related(
        "customer", "team", "assignee", "category__parent", "insight"
    ).order_by("-insight__priority", "sla_due_at", "id")


def repeat_links_for_customer(
    *, customer_id: int, user: User, limit: int = 100
) -> list[RepeatLink]:
    """A customer's repeat failures (newest first) on cases this user may see."""
    return list(
        RepeatLink.objects.filter(
            case__customer_id=customer_id, case__in=case_visible_to(user=user)
        )
        .select_related("case", "earlier_case")
        .order_by("-case__created_at", "-id")[:limit]
    )


@dataclass
class PassRate:
    author_id: int
    username: str
    first_drafts: int
    passed: int

    @property
    def rate(self) -> float | None:
        return round(self.passed / self.first_drafts, 4) if self.first_drafts else None


def apology_pass_rate(
    *, user: User, since: datetime, until: datetime, limit: int = 200
) -> list[PassRate]:
    """First-draft pass rate of the apology coach per person over a period: managers see
    everyone, supervisors their team, agents themselves."""
    if until <= since:
        raise ApplicationError("`until` must be after `since`.", code="invalid_period", status=422)
    profile = staff_profile_of(user=user)
    checks = ApologyCheck.objects.filter(
        first_draft=True, created_at__gte=since, created_at__lt=until, author__isnull=False
    )
    if not profile.sees_all_teams:
        if profile.role == Role.SUPERVISOR and profile.team_id is not None:
            checks = checks.filter(author__staff__team_id=profile.team_id)
        else:
            checks = checks.filter(author=user)
    rows = (
        checks.values("author_id", "author__username")
        .annotate(total=Count("id"), passed=Count("id", filter=Q(passes=True)))
        .order_by("author__username")[:limit]
    )
    return [PassRate(r["author_id"], r["author__username"], r["total"], r["passed"]) for r in rows]

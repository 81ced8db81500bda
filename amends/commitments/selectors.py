from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.utils import timezone

from amends.cases.models import Case
from amends.cases.selectors import case_visible_to
from amends.commitments.choices import (
    LEVEL_ORDER,
    CommitmentState,
    CommitmentStatus,
    EscalationStatus,
)
from amends.commitments.models import Commitment, CommitmentDueChange, Escalation, Notification
from amends.commitments.models.commitments import reminder_lead
from amends.core.exceptions import ApplicationError


def commitment_visible_to(*, user: User) -> QuerySet[Commitment]:
    """Promises on cases this user may see."""
    return Commitment.objects.filter(case__in=case_visible_to(user=user).values("pk"))


def commitment_get_for_user(*, commitment_id: int, user: User) -> Commitment:
    """One promise on a case this user may see; missing and forbidden both raise DoesNotExist."""
    return (
        commitment_visible_to(user=user)
        .select_related("case", "owner")
        .prefetch_related(_due_history())
        .get(pk=commitment_id)
    )


def _due_history() -> Prefetch[Any]:
    """Every earlier due time of the promises fetched, oldest first (one query per list)."""
    return Prefetch(
        "due_changes", queryset=CommitmentDueChange.objects.order_by("created_at", "id")
    )


def _filter_state(qs: QuerySet[Commitment], state: str, now: datetime) -> QuerySet[Commitment]:
    if state == CommitmentState.OPEN:
        return qs.filter(status=CommitmentStatus.OPEN)
    if state == CommitmentState.DUE_SOON:
        return qs.filter(
            status=CommitmentStatus.OPEN, due_at__gt=now, due_at__lte=now + reminder_lead()
        )
    if state == CommitmentState.OVERDUE:
        return qs.filter(status=CommitmentStatus.OPEN, due_at__lte=now)
    if state in (CommitmentState.BROKEN, CommitmentState.KEPT, CommitmentState.CANCELLED):
        return qs.filter(status=state)
    raise ApplicationError(
        f"Unknown state {state!r}; use {', '.join(CommitmentState.values)}.",
        code="invalid_filter",
        status=422,
    )


def commitment_list(
    *,
    user: User,
    state: str | None = None,
    owner: User | None = None,
    team_id: int | None = None,
    now: datetime | None = None,
) -> QuerySet[Commitment]:
    """Promises this user may see, soonest due first. Served by commitment_status_due_idx
    and, for one owner, commitment_owner_due_idx."""
    qs = commitment_visible_to(user=user)
    if state:
        qs = _filter_state(qs, state, now or timezone.now())
    if owner is not None:
        qs = qs.filter(owner=owner)
    if team_id is not None:
        qs = qs.filter(owner__staff__team_id=team_id)
    return (
        qs.select_related("case", "owner").prefetch_related(_due_history()).order_by("due_at", "id")
    )


def commitment_list_for_case(*, case: Case) -> list[Commitment]:
    return list(
        Commitment.objects.filter(case=case)
        .select_related("case", "owner")
        .prefetch_related(_due_history())
        .order_by("due_at", "id")
    )


def commitment_due_history(*, commitment: Commitment) -> list[CommitmentDueChange]:
    return list(commitment.due_changes.select_related("actor").order_by("created_at", "id"))


def escalation_visible_to(*, user: User) -> QuerySet[Escalation]:
    return Escalation.objects.filter(case__in=case_visible_to(user=user).values("pk"))


def escalation_get_for_user(*, escalation_id: int, user: User) -> Escalation:
    """An escalation on a case this user may see (an assignee who cannot see the case, e.g.
    after the case moved team, no longer sees the escalation either)."""
    return (
        Escalation.objects.filter(case__in=case_visible_to(user=user).values("pk"))
        .select_related("case", "assignee", "raised_by", "decided_by")
        .get(pk=escalation_id)
    )


def escalation_list(
    *, user: User, mine: bool = False, status: str | None = EscalationStatus.OPEN
) -> QuerySet[Escalation]:
    """Escalations, soonest decision due first; `mine` are those assigned to this user
    (escalation_assignee_due_idx), otherwise those on cases they may see."""
    qs = escalation_visible_to(user=user)
    if mine:
        qs = qs.filter(assignee=user)
    if status:
        if status not in EscalationStatus.values:
            raise ApplicationError(f"Unknown status {status!r}.", code="invalid_filter", status=422)
        qs = qs.filter(status=status)
    return qs.select_related("case", "assignee", "raised_by", "decided_by").order_by(
        "decision_due_at", "id"
    )


def escalation_list_for_case(*, case: Case) -> list[Escalation]:
    return list(
        Escalation.objects.filter(case=case)
        .select_related("case", "assignee", "raised_by", "decided_by")
        .order_by("-raised_at", "-id")
    )


def notification_list(*, user: User, unread_only: bool = False) -> QuerySet[Notification]:
    qs = Notification.objects.filter(recipient=user)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs.order_by("-created_at", "-id")


def notification_get_for_user(*, notification_id: int, user: User) -> Notification:
    """One of the user's own notifications (anyone else's raises Notification.DoesNotExist)."""
    return Notification.objects.select_related("case").get(pk=notification_id, recipient=user)


def notification_unread_count(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


@dataclass
class BrokenCount:
    name: str  # the team's name, or the person's username (the API's key)
    broken: int
    label: str = ""  # what people read: the person's full name

    def __post_init__(self) -> None:
        self.label = self.label or self.name


@dataclass
class LevelDecision:
    level: str
    decided: int
    median_seconds: int | None


@dataclass
class PromiseMeasures:
    kept: int
    kept_on_time: int
    broken: int
    kept_on_time_pct: float | None
    broken_per_team: list[BrokenCount]
    broken_per_person: list[BrokenCount]
    decision_by_level: list[LevelDecision]


def _median(escalations: QuerySet[Escalation], level: str) -> tuple[int, int | None]:
    """Median of decision_seconds for one level, found by the database: count, then read the
    middle row(s) in order (escalation_level_secs_idx), never loading the column."""
    qs = escalations.filter(
        level=level, status=EscalationStatus.DECIDED, decision_seconds__isnull=False
    )
    n = qs.count()
    if n == 0:
        return 0, None
    middle = list(
        qs.order_by("decision_seconds").values_list("decision_seconds", flat=True)[
            (n - 1) // 2 : n // 2 + 1
        ]
    )
    return n, round(sum(v for v in middle if v is not None) / len(middle))


def promise_measures(*, user: User, limit: int = 20) -> PromiseMeasures:
    """Promises kept on time, broken promises per team and person, median time to decision
    per escalation level. Aggregated in the database over the cases this user may see."""
    commitments = commitment_visible_to(user=user)
    escalations = escalation_visible_to(user=user)
    totals = commitments.aggregate(
        kept=Count("pk", filter=Q(status=CommitmentStatus.KEPT)),
        kept_on_time=Count("pk", filter=Q(status=CommitmentStatus.KEPT, kept_at__lte=F("due_at"))),
        broken=Count("pk", filter=Q(status=CommitmentStatus.BROKEN)),
    )
    closed = totals["kept"] + totals["broken"]
    broken = commitments.filter(status=CommitmentStatus.BROKEN)
    per_team = (
        broken.values("owner__staff__team__name")
        .annotate(n=Count("pk"))
        .order_by("-n", "owner__staff__team__name")[:limit]
    )
    per_person = (
        broken.values("owner__username", "owner__first_name", "owner__last_name")
        .annotate(n=Count("pk"))
        .order_by("-n", "owner__username")[:limit]
    )
    levels = []
    for level in LEVEL_ORDER:
        n, median = _median(escalations, level)
        levels.append(LevelDecision(level=level, decided=n, median_seconds=median))
    return PromiseMeasures(
        kept=totals["kept"],
        kept_on_time=totals["kept_on_time"],
        broken=totals["broken"],
        kept_on_time_pct=round(100 * totals["kept_on_time"] / closed, 1) if closed else None,
        broken_per_team=[
            BrokenCount(name=row["owner__staff__team__name"] or "(no team)", broken=row["n"])
            for row in per_team
        ],
        broken_per_person=[
            BrokenCount(
                name=row["owner__username"],
                broken=row["n"],
                label=f"{row['owner__first_name']} {row['owner__last_name']}".strip(),
            )
            for row in per_person
        ],
        decision_by_level=levels,
    )

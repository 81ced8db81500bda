"""Reads of the feedback app, with the visibility rules applied in the query.

A person sees their own surveys, reviews and KPIs; a supervisor their team's; a manager or an
admin everything. Reviews are stricter: only the staff member, whoever manages them, and admins.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, cast

from django.contrib.auth.models import User
from django.db.models import Count, F, Q, QuerySet, Sum
from django.utils import timezone

from amends.accounts.choices import Role
from amends.accounts.models import Team
from amends.accounts.selectors import staff_profile_of
from amends.core.exceptions import ApplicationError, PermissionDeniedError
from amends.core.organisation import organisation, organisation_days, organisation_today
from amends.feedback.choices import CheckStatus, FollowUpStatus, ReviewOutcome, SurveyStatus
from amends.feedback.models import (
    CaseKpi,
    Compliment,
    FollowUp,
    KpiDay,
    KpiMonth,
    SecondLook,
    StaffReview,
    Survey,
    SurveySettings,
)
from amends.remedies.models import Remedy

MAX_PERIOD_DAYS = 3660


def survey_settings() -> SurveySettings:
    """The admin's wording and timing (defaults until an admin saves the row)."""
    return SurveySettings.objects.order_by("pk").first() or SurveySettings()


# ---- surveys -------------------------------------------------------------------------------


def _scoped(qs: QuerySet[Any], user: User, *, team: str, person: str) -> QuerySet[Any]:
    profile = staff_profile_of(user=user)
    if profile.sees_all_teams:
        return qs
    if profile.role == Role.SUPERVISOR and profile.team_id is not None:
        return qs.filter(Q(**{team: profile.team_id}) | Q(**{person: user.pk}))
    return qs.filter(**{person: user.pk})


def survey_visible_to(*, user: User) -> QuerySet[Survey]:
    return _scoped(Survey.objects.all(), user, team="team_id", person="staff_id")


def survey_list(
    *, user: User, status: str | None = None, answered: bool | None = None
) -> QuerySet[Survey]:
    qs = survey_visible_to(user=user)
    if status:
        if status not in SurveyStatus.values:
            raise ApplicationError(f"Unknown status {status!r}.", code="invalid_filter", status=422)
        qs = qs.filter(status=status)
    if answered is not None:
        qs = qs.filter(answered_at__isnull=not answered)
    return qs.select_related("case", "customer", "staff", "team").order_by("-created_at", "-id")


def survey_get_for_user(*, survey_id: int, user: User) -> Survey:
    return (
        survey_visible_to(user=user)
        .select_related("case", "customer", "staff", "team", "category", "service")
        .get(pk=survey_id)
    )


# ---- follow-ups, second looks, compliments -------------------------------------------------


def follow_up_queue(*, user: User, open_only: bool = True) -> QuerySet[FollowUp]:
    qs = FollowUp.objects.filter(assignee=user)
    if open_only:
        qs = qs.filter(status=FollowUpStatus.OPEN)
    return qs.select_related("case", "survey", "survey__staff").order_by("due_at", "id")


def follow_up_get_for_user(*, follow_up_id: int, user: User) -> FollowUp:
    qs: QuerySet[FollowUp] = _scoped(
        FollowUp.objects.all(), user, team="case__team_id", person="assignee_id"
    )
    return qs.select_related("case", "survey", "assignee").get(pk=follow_up_id)


def second_look_queue(*, user: User) -> QuerySet[SecondLook]:
    """Open requests asked of me by name, or of anyone in my team (not my own)."""
    profile = staff_profile_of(user=user)
    condition = Q(reviewer=user)
    if profile.team_id is not None:
        condition |= Q(reviewer__isnull=True, team_id=profile.team_id)
    return (
        SecondLook.objects.filter(condition, status=CheckStatus.OPEN)
        .exclude(requester=user)
        .select_related("case", "requester", "reviewer")
        .order_by("due_at", "id")
    )


def second_look_asked_by(*, user: User) -> QuerySet[SecondLook]:
    return (
        SecondLook.objects.filter(requester=user)
        .select_related("case", "reviewer", "answered_by")
        .order_by("-created_at", "-id")
    )


def second_look_get_for_user(*, look_id: int, user: User) -> SecondLook:
    profile = staff_profile_of(user=user)
    condition = Q(reviewer=user) | Q(requester=user)
    if profile.team_id is not None:
        condition |= Q(team_id=profile.team_id)
    qs = (
        SecondLook.objects.all() if profile.sees_all_teams else SecondLook.objects.filter(condition)
    )
    return qs.select_related("case", "requester", "reviewer").get(pk=look_id)


def compliment_list_for_staff(*, staff: User) -> QuerySet[Compliment]:
    return Compliment.objects.filter(staff=staff).select_related("case").order_by("-created_at")


# ---- staff reviews -------------------------------------------------------------------------


def staff_review_visible_to(*, user: User) -> QuerySet[StaffReview]:
    """The staff member, their team's supervisors, managers and admins; nobody else."""
    profile = staff_profile_of(user=user)
    qs = StaffReview.objects.all()
    if profile.sees_all_teams:
        return qs
    condition = Q(staff=user)
    if profile.role == Role.SUPERVISOR and profile.team_id is not None:
        condition |= Q(team_id=profile.team_id) & ~Q(staff=user)
    return qs.filter(condition)


def staff_review_list(*, user: User, staff: User | None = None) -> QuerySet[StaffReview]:
    qs = staff_review_visible_to(user=user)
    if staff is not None:
        qs = qs.filter(staff=staff)
    return qs.select_related("case", "staff", "opened_by", "decided_by").order_by(
        "-created_at", "-id"
    )


def staff_review_get_for_user(*, review_id: int, user: User) -> StaffReview:
    return (
        staff_review_visible_to(user=user)
        .select_related("case", "case__customer", "staff", "opened_by", "decided_by")
        .get(pk=review_id)
    )


@dataclass
class StaffRecord:
    """A staff member's past year beside a review: praise first."""

    compliments: int
    csat_average: float | None
    csat_count: int
    reviews: int
    upheld: int
    development: int  # coaching outcomes: development, not strikes


def staff_record(*, staff: User, now: datetime | None = None) -> StaffRecord:
    now = now or timezone.now()
    since = now - timedelta(days=365)
    sums = KpiDay.objects.filter(person=staff, day__gte=organisation_today(since)).aggregate(
        csat_sum=Sum("csat_sum"), csat_count=Sum("csat_count"), compliments=Sum("compliments")
    )
    reviews = StaffReview.objects.filter(staff=staff, created_at__gte=since).aggregate(
        total=Count("pk"),
        upheld=Count("pk", filter=Q(outcome=ReviewOutcome.PROCESS_CHANGE)),
        development=Count("pk", filter=Q(outcome=ReviewOutcome.COACHING)),
    )
    count = int(sums["csat_count"] or 0)
    return StaffRecord(
        compliments=int(sums["compliments"] or 0),
        csat_average=round(int(sums["csat_sum"] or 0) / count, 2) if count else None,
        csat_count=count,
        reviews=reviews["total"],
        upheld=reviews["upheld"],
        development=reviews["development"],
    )


# ---- KPIs ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class KpiScope:
    """What a KPI view covers: a person, a team, or everyone, in [start, end]: the
    organisation's calendar days (its time zone's midnight to midnight), both included."""

    start: date
    end: date
    team: Team | None = None
    person: User | None = None

    @property
    def label(self) -> str:
        if self.person is not None:
            return self.person.get_full_name() or self.person.username
        if self.team is not None:
            return self.team.name
        return "Everyone"

    @property
    def time_zone(self) -> str:
        """The zone whose days the period's dates are."""
        return organisation().time_zone


def parse_period(
    raw_from: str | None, raw_to: str | None, *, today: date | None = None
) -> tuple[date, date]:
    """`YYYY-MM-DD` bounds (organisation days), inclusive; by default the last 30 days ending
    on the organisation's today."""
    today = today or organisation_today()

    def parse(name: str, raw: str | None, default: date) -> date:
        if raw is None or raw == "":
            return default
        try:
            return date.fromisoformat(raw.strip()[:10]) if len(raw) <= 32 else date.min
        except ValueError:
            raise ApplicationError(
                f"{name} must be a date like 2026-01-31.",
                code="invalid_period",
                status=422,
                detail={name: ["A date YYYY-MM-DD."]},
            ) from None

    end = parse("to", raw_to, today)
    start = parse("from", raw_from, end - timedelta(days=29))
    if end < start:
        raise ApplicationError(
            "The period ends before it starts.",
            code="invalid_period",
            status=422,
            detail={"to": ["On or after from."]},
        )
    if (end - start).days > MAX_PERIOD_DAYS or start.year < 2000:
        raise ApplicationError(
            "Choose a period of at most ten years, from 2000 on.",
            code="invalid_period",
            status=422,
            detail={"from": ["At most ten years, from 2000."]},
        )
    return start, end


def kpi_scope_for(
    *, user: User, team_id: int | None, person: str | None, start: date, end: date
) -> KpiScope:
    """Check the viewer may see this scope: own figures; a supervisor their team and its
    members; a manager or admin anyone. With nothing asked: own (agent), team (supervisor),
    everyone (manager)."""
    profile = staff_profile_of(user=user)
    person_user: User | None = None
    if person:
        person_user = User.objects.select_related("staff").filter(username=person).first()
        if person_user is None:
            raise User.DoesNotExist
    team: Team | None = None
    if team_id is not None:
        team = Team.objects.filter(pk=team_id).first()
        if team is None:
            raise Team.DoesNotExist
    if profile.sees_all_teams:
        return KpiScope(start=start, end=end, team=team, person=person_user)
    if profile.role == Role.SUPERVISOR and profile.team_id is not None:
        if team is not None and team.pk != profile.team_id:
            raise PermissionDeniedError("You can see your own team's figures.")
        if person_user is not None and person_user.pk != user.pk:
            member_team = getattr(getattr(person_user, "staff", None), "team_id", None)
            if member_team != profile.team_id:
                raise PermissionDeniedError("You can see the figures of your team's members.")
        if person_user is None and team is None:
            team = profile.team
        return KpiScope(start=start, end=end, team=team, person=person_user)
    if team is not None or (person_user is not None and person_user.pk != user.pk):
        raise PermissionDeniedError("You can see your own figures.")
    return KpiScope(start=start, end=end, person=user)


@dataclass
class Figure:
    """One KPI with the count behind it and where to drill down."""

    key: str
    label: str
    value: float | None
    unit: str
    count: int
    count_label: str
    drill: str  # "cases", "surveys", "compliments", "approvals"

    @property
    def display(self) -> str:
        if self.value is None:
            return "—"
        if self.unit == "%":
            return f"{self.value:.0f}%"
        if self.unit == "h":
            return f"{self.value:.1f} h"
        if self.unit == "/5":
            return f"{self.value:.2f} / 5"
        return f"{self.value:g}"


@dataclass
class KpiFigures:
    scope: KpiScope
    figures: list[Figure] = field(default_factory=list)

    def by_key(self) -> dict[str, Figure]:
        return {f.key: f for f in self.figures}


SUM_FIELDS = [
    "resolved",
    "ack_count",
    "ack_seconds",
    "resolve_count",
    "resolve_seconds",
    "steps_all_done",
    "promises_due",
    "promises_kept_on_time",
    "remedies",
    "remedies_within_authority",
    "answered",
    "csat_count",
    "csat_sum",
    "csat_satisfied",
    "fair_outcome_count",
    "fair_outcome_sum",
    "fair_process_count",
    "fair_process_sum",
    "fair_treatment_count",
    "fair_treatment_sum",
    "approvals_decided",
    "approval_seconds",
    "compliments",
]


def _months_and_days(scope: KpiScope) -> tuple[QuerySet[KpiMonth], QuerySet[KpiDay]]:
    """The period as whole months (monthly sums) plus the days at its edges (daily sums), so
    two years read about 24 rows per person instead of 730."""
    after = scope.end + timedelta(days=1)
    first = scope.start if scope.start.day == 1 else _next_month(scope.start)
    last = after.replace(day=1)
    months = KpiMonth.objects.none()
    days = KpiDay.objects.filter(day__gte=scope.start, day__lt=after)
    if first < last:
        months = KpiMonth.objects.filter(month__gte=first, month__lt=last)
        days = KpiDay.objects.filter(
            Q(day__gte=scope.start, day__lt=first) | Q(day__gte=last, day__lt=after)
        )
    if scope.person is not None:
        months, days = months.filter(person=scope.person), days.filter(person=scope.person)
    if scope.team is not None:
        months, days = months.filter(team=scope.team), days.filter(team=scope.team)
    return months, days


def _next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def kpi_sums(scope: KpiScope) -> dict[str, int]:
    total = dict.fromkeys(SUM_FIELDS, 0)
    for qs in _months_and_days(scope):
        if not qs.query.is_empty():
            sums = qs.aggregate(**{name: Sum(name) for name in SUM_FIELDS})
            for name, value in sums.items():
                total[name] += int(value or 0)
    return total


def _ratio(top: int, bottom: int, scale: float = 1.0) -> float | None:
    return round(top * scale / bottom, 2) if bottom else None


def kpi_figures(*, scope: KpiScope) -> KpiFigures:
    """Every KPI of the scope in one indexed aggregate over the daily sums."""
    s = kpi_sums(scope)
    hour = 1 / 3600
    return KpiFigures(
        scope=scope,
        figures=[
            Figure("ack_time", "Time to acknowledge (business hours, average)",
                   _ratio(s["ack_seconds"], s["ack_count"], hour), "h",
                   s["ack_count"], "cases acknowledged", "cases"),
            Figure("resolve_time", "Time to resolve (business hours, average)",
                   _ratio(s["resolve_seconds"], s["resolve_count"], hour), "h",
                   s["resolve_count"], "cases resolved", "cases"),
            Figure("steps_done", "Cases with every required step done",
                   _ratio(s["steps_all_done"], s["resolved"], 100), "%",
                   s["resolved"], "cases resolved", "cases"),
            Figure("csat", "Recovery satisfaction (average)",
                   _ratio(s["csat_sum"], s["csat_count"]), "/5",
                   s["csat_count"], "answers", "surveys"),
            Figure("csat_satisfied", "Satisfied (4 or 5)",
                   _ratio(s["csat_satisfied"], s["csat_count"], 100), "%",
                   s["csat_count"], "answers", "surveys"),
            Figure("fair_outcome", "Fair outcome",
                   _ratio(s["fair_outcome_sum"], s["fair_outcome_count"]), "/5",
                   s["fair_outcome_count"], "answers", "surveys"),
            Figure("fair_process", "Fair process",
                   _ratio(s["fair_process_sum"], s["fair_process_count"]), "/5",
                   s["fair_process_count"], "answers", "surveys"),
            Figure("fair_treatment", "Fair treatment",
                   _ratio(s["fair_treatment_sum"], s["fair_treatment_count"]), "/5",
                   s["fair_treatment_count"], "answers", "surveys"),
            Figure("promises", "Promises kept on time",
                   _ratio(s["promises_kept_on_time"], s["promises_due"], 100), "%",
                   s["promises_due"], "promises due", "cases"),
            Figure("remedies", "Remedies within authority",
                   _ratio(s["remedies_within_authority"], s["remedies"], 100), "%",
                   s["remedies"], "remedies", "cases"),
            Figure("approvals", "Approvals: time to decision (average)",
                   _ratio(s["approval_seconds"], s["approvals_decided"], hour), "h",
                   s["approvals_decided"], "decisions", "approvals"),
            Figure("compliments", "Compliments", float(s["compliments"]), "",
                   s["compliments"], "compliments", "compliments"),
        ],
    )  # fmt: skip


def _span(scope: KpiScope) -> tuple[datetime, datetime]:
    """The moments the period covers: exactly those whose organisation day its daily sums
    count them on, so a drill-down lists what its figure counts."""
    return organisation_days(scope.start, scope.end)


def kpi_cases(*, scope: KpiScope) -> QuerySet[CaseKpi]:
    """The resolved cases behind the case figures (drill-down), newest first."""
    start, end = _span(scope)
    qs = CaseKpi.objects.filter(resolved_at__gte=start, resolved_at__lt=end)
    if scope.person is not None:
        qs = qs.filter(person=scope.person)
    if scope.team is not None:
        qs = qs.filter(team=scope.team)
    return qs.select_related("case", "person").order_by("-resolved_at", "-case_id")


def kpi_surveys(*, scope: KpiScope) -> QuerySet[Survey]:
    start, end = _span(scope)
    qs = Survey.objects.filter(answered_at__gte=start, answered_at__lt=end)
    if scope.person is not None:
        qs = qs.filter(staff=scope.person)
    if scope.team is not None:
        qs = qs.filter(team=scope.team)
    return qs.select_related("case", "staff").order_by("-answered_at", "-id")


def kpi_compliments(*, scope: KpiScope) -> QuerySet[Compliment]:
    start, end = _span(scope)
    qs = Compliment.objects.filter(created_at__gte=start, created_at__lt=end)
    if scope.person is not None:
        qs = qs.filter(staff=scope.person)
    if scope.team is not None:
        qs = qs.filter(team=scope.team)
    return qs.select_related("case", "staff").order_by("-created_at", "-id")


def kpi_approvals(*, scope: KpiScope) -> QuerySet[Remedy]:
    """Approval decisions behind "time to decision": by the person, or by the team's members."""
    start, end = _span(scope)
    qs = Remedy.objects.filter(
        decided_at__gte=start, decided_at__lt=end, decision_seconds__isnull=False
    )
    if scope.person is not None:
        qs = qs.filter(decided_by=scope.person)
    if scope.team is not None:
        qs = qs.filter(decided_by__staff__team=scope.team)
    return qs.select_related("case", "decided_by", "kind").order_by("-decided_at", "-id")


# ---- champions and habits ------------------------------------------------------------------


@dataclass
class Standout:
    person: User
    reasons: list[str]


@dataclass
class Champions:
    scope: KpiScope
    figures: KpiFigures
    standouts: list[Standout]
    recent_compliments: list[Compliment]


CHAMPION_MIN_ANSWERS = 3
CHAMPION_CSAT = 4.5


def champions(*, scope: KpiScope, compliments_shown: int = 10) -> Champions:
    """Praise made visible: the team's figures and the people who stand out, in name order.
    Only good news is listed; nobody appears for a low score."""
    fields = {
        "compliments": "compliments",
        "csat_sum": "csat_sum",
        "csat_count": "csat_count",
        "due": "promises_due",
        "kept": "promises_kept_on_time",
    }
    per_person: dict[int, dict[str, int]] = {}
    for qs in _months_and_days(scope):
        if qs.query.is_empty():
            continue
        rows = (
            qs.filter(person__isnull=False)
            .values("person_id")
            .annotate(**{alias: Sum(name) for alias, name in fields.items()})
        )
        for found_row in rows:
            data = cast(dict[str, Any], found_row)
            totals = per_person.setdefault(data["person_id"], dict.fromkeys(fields, 0))
            for alias in fields:
                totals[alias] += int(data[alias] or 0)
    reasons: dict[int, list[str]] = {}
    for person_id, row in per_person.items():
        found = []
        if row["compliments"]:
            n = row["compliments"]
            found.append(f"{n} compliment{'s' if n != 1 else ''}")
        if row["csat_count"] >= CHAMPION_MIN_ANSWERS and (
            row["csat_sum"] / row["csat_count"] >= CHAMPION_CSAT
        ):
            found.append(
                f"recovery satisfaction {row['csat_sum'] / row['csat_count']:.1f}/5 "
                f"({row['csat_count']} answers)"
            )
        if row["due"] >= CHAMPION_MIN_ANSWERS and row["kept"] == row["due"]:
            found.append(f"every promise kept on time ({row['due']})")
        if found:
            reasons[person_id] = found
    people = User.objects.filter(pk__in=reasons).order_by("first_name", "last_name", "username")
    start, end = _span(scope)
    recent = Compliment.objects.filter(created_at__gte=start, created_at__lt=end)
    if scope.team is not None:
        recent = recent.filter(team=scope.team)
    return Champions(
        scope=scope,
        figures=kpi_figures(scope=scope),
        standouts=[Standout(person=p, reasons=reasons[p.pk]) for p in people],
        recent_compliments=list(
            recent.select_related("staff").order_by("-created_at", "-id")[:compliments_shown]
        ),
    )


@dataclass
class Habits:
    asked: int
    answered: int
    answered_in_time: int
    average_answer_hours: float | None


def second_look_habits(*, scope: KpiScope) -> Habits:
    """How often the team asks for a second look and how quickly colleagues answer: a team
    habit, never a figure per person."""
    start, end = _span(scope)
    qs = SecondLook.objects.filter(created_at__gte=start, created_at__lt=end)
    if scope.team is not None:
        qs = qs.filter(team=scope.team)
    elif scope.person is not None:
        person_team: int | None = getattr(getattr(scope.person, "staff", None), "team_id", None)
        qs = qs.filter(team_id=person_team) if person_team is not None else qs.none()
    sums = qs.aggregate(
        asked=Count("pk"),
        answered=Count("answered_at"),
        in_time=Count("pk", filter=Q(answered_at__lte=F("due_at"))),
        seconds=Sum("answer_seconds"),
    )
    answered = int(sums["answered"] or 0)
    return Habits(
        asked=int(sums["asked"] or 0),
        answered=answered,
        answered_in_time=int(sums["in_time"] or 0),
        average_answer_hours=round(int(sums["seconds"] or 0) / answered / 3600, 1)
        if answered
        else None,
    )

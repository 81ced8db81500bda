from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Count, F, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from amends.accounts.choices import ROLE_RANK, Role
from amends.accounts.selectors import staff_profile_of
from amends.cases.choices import DONE_STATUSES
from amends.cases.models import Case
from amends.cases.selectors import case_visible_to
from amends.core.exceptions import PermissionDeniedError
from amends.core.money import currency_choices
from amends.core.organisation import organisation
from amends.remedies.authority import Limits, Usage, headroom, limits_for, limits_table_for
from amends.remedies.choices import (
    CANCELLABLE_STATUSES,
    COST_STATUSES,
    COUNTED_STATUSES,
    ISSUABLE_STATUSES,
    RemedyStatus,
)
from amends.remedies.models import AuthorityRule, CannotDoItem, ChoiceMenu, Remedy, RemedyKind

# "What I've used" on the My authority page: remedies I proposed over this many days.
USAGE_WINDOW_DAYS = 30


def remedy_kind_list() -> list[RemedyKind]:
    return list(RemedyKind.objects.filter(active=True).order_by("position", "code"))


def remedy_visible_to(*, user: User) -> QuerySet[Remedy]:
    """Remedies on cases this user can see, plus any they have been asked to approve."""
    profile = staff_profile_of(user=user)
    qs = Remedy.objects.all()
    if profile.sees_all_teams:
        return qs
    return qs.filter(Q(case__in=case_visible_to(user=user)) | Q(approver=user))


def remedy_get(*, remedy_id: int) -> Remedy:
    """A remedy by id with its case and kind, for hook subscribers (no visibility check)."""
    return Remedy.objects.select_related("case", "kind").get(pk=remedy_id)


def remedy_get_for_user(*, remedy_id: int, user: User) -> Remedy:
    return (
        remedy_visible_to(user=user)
        .select_related("case", "kind", "proposed_by", "approver", "decided_by")
        .get(pk=remedy_id)
    )


def remedy_list_for_case(*, case: Case) -> list[Remedy]:
    return list(
        Remedy.objects.filter(case=case)
        .select_related("kind", "proposed_by", "approver", "decided_by", "issued_by")
        .order_by("created_at", "id")
    )


def menu_list_for_case(*, case: Case, open_only: bool = False) -> list[ChoiceMenu]:
    qs = ChoiceMenu.objects.filter(case=case)
    if open_only:
        qs = qs.filter(status="open")
    options = Remedy.objects.select_related(
        "kind", "proposed_by", "approver", "decided_by", "issued_by"
    )
    return list(
        qs.select_related("created_by", "chosen_by")
        .prefetch_related(Prefetch("options", queryset=options))
        .order_by("created_at", "id")
    )


def menu_get_for_user(*, menu_id: int, user: User) -> ChoiceMenu:
    return ChoiceMenu.objects.select_related("case").get(
        pk=menu_id, case__in=case_visible_to(user=user)
    )


def approval_queue(*, user: User) -> QuerySet[Remedy]:
    """Remedies waiting for this person's decision, the soonest due first."""
    return (
        Remedy.objects.filter(approver=user, status=RemedyStatus.PENDING_APPROVAL)
        .select_related("case", "customer", "kind", "proposed_by", "approver")
        .order_by("decision_due_at", "id")
    )


def approval_pending_count(*, user: User) -> int:
    return Remedy.objects.filter(approver=user, status=RemedyStatus.PENDING_APPROVAL).count()


# ---- authority ----------------------------------------------------------------------------


@dataclass
class KindAuthority:
    kind: RemedyKind
    limits: Limits
    used: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class AuthorityOverview:
    user: User
    role: str
    kinds: list[KindAuthority]
    cannot_do: list[str]
    window_days: int = USAGE_WINDOW_DAYS


def cannot_do_list(*, role: str) -> list[str]:
    return list(
        CannotDoItem.objects.filter(role=role)
        .order_by("position", "id")
        .values_list("text", flat=True)
    )


def authority_overview(*, user: User, now: datetime | None = None) -> AuthorityOverview:
    """My limits per kind, what I have granted lately, and what my role may never do."""
    now = now or timezone.now()
    role = staff_profile_of(user=user).role
    kinds = remedy_kind_list()
    table = limits_table_for(user=user, kinds=kinds)
    used: dict[int, list[dict[str, Any]]] = {}
    rows = (
        Remedy.objects.filter(
            proposed_by=user,
            status__in=COUNTED_STATUSES,
            created_at__gte=now - timedelta(days=USAGE_WINDOW_DAYS),
        )
        .values("kind_id", "currency")
        .annotate(total=Sum("amount"), count=Count("id"))
        .order_by("kind_id", "currency")
    )
    for row in rows:
        used.setdefault(row["kind_id"], []).append(
            {"currency": row["currency"], "total": row["total"], "count": row["count"]}
        )
    return AuthorityOverview(
        user=user,
        role=role,
        kinds=[KindAuthority(kind=k, limits=table[k.pk], used=used.get(k.pk, [])) for k in kinds],
        cannot_do=cannot_do_list(role=role),
    )


@dataclass
class Headroom:
    kind: RemedyKind
    currency: str
    limits: Limits
    remaining: Decimal | None  # None: no amount limit applies


def authority_headroom(
    *, user: User, case: Case, kind: RemedyKind, currency: str, now: datetime | None = None
) -> Headroom:
    """How much this person can still grant on this case, for this kind, without approval."""
    limits = limits_for(user=user, kind=kind)
    usage = Usage(case=case, kind=kind, currency=currency, now=now or timezone.now())
    return Headroom(
        kind=kind, currency=currency, limits=limits, remaining=headroom(limits=limits, usage=usage)
    )


def authority_rule_list(
    *, role: str | None = None, user: User | None = None, viewer: User | None = None
) -> list[AuthorityRule]:
    """Authority rules. `viewer` is who asks: supervisors and above see everyone's personal
    overrides, an agent only the role rules and their own (None: the CLI, no restriction)."""
    qs = AuthorityRule.objects.select_related("user", "kind")
    if viewer is not None and staff_profile_of(user=viewer).rank < ROLE_RANK[Role.SUPERVISOR]:
        qs = qs.filter(Q(user__isnull=True) | Q(user=viewer))
    if user is not None:
        profile = staff_profile_of(user=user)
        qs = qs.filter(Q(user=user) | Q(user__isnull=True, role=profile.role))
    elif role is not None:
        qs = qs.filter(user__isnull=True, role=role)
    return list(qs.order_by("user_id", "role", "kind__position", "kind__code"))


# ---- reports ------------------------------------------------------------------------------


@dataclass
class RemedyReport:
    since: datetime
    until: datetime
    team: str | None
    by_category: list[dict[str, Any]]
    by_team: list[dict[str, Any]]
    by_month: list[dict[str, Any]]
    within_authority: int
    needed_approval: int
    median_decision_seconds: float | None
    decided: int

    @property
    def share_within_authority(self) -> float | None:
        total = self.within_authority + self.needed_approval
        return None if total == 0 else round(self.within_authority / total, 4)


def remedy_report_allowed(*, user: User) -> bool:
    """Whether this person may read the remedy report (supervisors, managers and admins)."""
    return staff_profile_of(user=user).role != Role.AGENT


def remedy_report(*, user: User, since: datetime, until: datetime) -> RemedyReport:
    """Cost by category, team and month; authority share; median decision time (all in SQL).

    Supervisors see their own team's remedies, managers and admins everyone's.
    """
    profile = staff_profile_of(user=user)
    if not remedy_report_allowed(user=user):
        raise PermissionDeniedError("Remedy reports are for supervisors and managers.")
    base = Remedy.objects.filter(created_at__gte=since, created_at__lt=until)
    team_name = None
    if not profile.sees_all_teams:
        base = base.filter(case__team_id=profile.team_id) if profile.team_id else base.none()
        team_name = profile.team.name if profile.team else None
    cost = base.filter(status__in=COST_STATUSES, amount__isnull=False)

    def grouped(*keys: str, **named: Any) -> list[dict[str, Any]]:
        return list(
            cost.values(*keys, **named)
            .annotate(total=Sum("amount"), count=Count("id"))
            .order_by(*keys, *named, "currency")
        )

    by_category = grouped(
        "currency", category=Coalesce("case__category__parent__name", "case__category__name")
    )
    by_team = grouped("currency", team=F("case__team__name"))
    # Months of the organisation's calendar, like the report's days.
    by_month = grouped("currency", month=TruncMonth("created_at", tzinfo=organisation().zone))
    shares = base.aggregate(
        within=Count(
            "id",
            filter=Q(approval_requested_at__isnull=True, status__in=COST_STATUSES),
        ),
        approval=Count("id", filter=Q(approval_requested_at__isnull=False)),
    )
    decided_qs = base.filter(decision_seconds__isnull=False)
    decided = decided_qs.count()
    median: float | None = None
    if decided:
        middle = [
            seconds or 0
            for seconds in decided_qs.order_by("decision_seconds").values_list(
                "decision_seconds", flat=True
            )[(decided - 1) // 2 : decided // 2 + 1]
        ]
        median = sum(middle) / len(middle)
    return RemedyReport(
        since=since,
        until=until,
        team=team_name,
        by_category=by_category,
        by_team=by_team,
        by_month=by_month,
        within_authority=shares["within"],
        needed_approval=shares["approval"],
        median_decision_seconds=median,
        decided=decided,
    )


# ---- the case page panel ------------------------------------------------------------------


def default_currency() -> str:
    """The organisation's currency: remedy forms offer it first."""
    return organisation().currency


# How far back "currencies in use" looks: the newest remedies, so the read stays one short
# index scan however many remedies there are.
CURRENCIES_IN_USE_WINDOW = 2000


def currencies_in_use() -> list[str]:
    """The currencies of the newest remedies (granted, pending or not): with the organisation's
    and the offered ones, the remedy forms' short list."""
    newest = Remedy.objects.exclude(currency="").order_by("-pk").values("pk")
    rows = Remedy.objects.filter(pk__in=newest[:CURRENCIES_IN_USE_WINDOW])
    return sorted(set(rows.values_list("currency", flat=True)))


@dataclass
class CaseRemedyPanel:
    case: Case
    remedies: list[Remedy]
    menus: list[ChoiceMenu]
    kinds: list[RemedyKind]
    currencies: list[str]  # the organisation's first
    currency: str
    headroom: Headroom | None
    accepts_remedies: bool
    # Remedy ids that may be issued / cancelled now (the rule remedy_issue and remedy_cancel apply).
    can_issue: set[int]
    can_cancel: set[int]


def case_remedy_panel(*, case: Case, user: User) -> CaseRemedyPanel:
    """Everything the remedies panel on the case page shows, in a fixed number of queries."""
    kinds = remedy_kind_list()
    currency = default_currency()
    room = (
        authority_headroom(user=user, case=case, kind=kinds[0], currency=currency)
        if kinds
        else None
    )
    remedies = remedy_list_for_case(case=case)
    return CaseRemedyPanel(
        case=case,
        remedies=remedies,
        menus=menu_list_for_case(case=case, open_only=True),
        kinds=kinds,
        currencies=[code for code, _ in currency_choices(currency, used=currencies_in_use())],
        currency=currency,
        headroom=room,
        accepts_remedies=case.status not in DONE_STATUSES,
        can_issue={r.pk for r in remedies if r.status in ISSUABLE_STATUSES},
        can_cancel={r.pk for r in remedies if r.status in CANCELLABLE_STATUSES},
    )

"""Reads for the loyalty reports: rollups, facts and risk rows, with the visibility rules.

Managers and admins see every team; a supervisor sees their own team only (the team filter is
forced); agents have no access to the analytics. Every report reads the narrow loyalty tables
(`DailyRollup`, `CaseFact`, `CustomerRisk`), never the wide case tables in bulk.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import (
    Case as When_,
)
from django.db.models import (
    Count,
    Exists,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.utils import timezone

from amends.accounts.choices import Role
from amends.accounts.selectors import staff_profile_of, team_list
from amends.cases.models import Case
from amends.cases.selectors import case_visible_to
from amends.core.conf import amends_setting
from amends.core.exceptions import ApplicationError
from amends.customers.choices import LoyaltyStatus
from amends.customers.selectors import customer_search
from amends.loyalty.models import (
    Campaign,
    CampaignTarget,
    CaseFact,
    CustomerRisk,
    DailyRollup,
    IncidentFact,
    LoyaltyEvent,
    WeeklyRollup,
)
from amends.loyalty.services.facts import local_day, organisation_zone, week_of
from amends.loyalty.stats import mean_ci, wilson
from amends.taxonomy.selectors import category_list, root_cause_list, service_list

MAX_SPAN_DAYS = 3660
EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 1, 1)


# --- filters and access -----------------------------------------------------------------------


def day_start(day: date) -> datetime:
    """Midnight at the start of an organisation day (its time zone)."""
    return datetime.combine(day, time.min, tzinfo=organisation_zone())


def organisation_today() -> date:
    return local_day(timezone.now())


@dataclass(frozen=True)
class AnalyticsFilters:
    """A period of organisation days (its time zone, like the rollups) and the dimensions."""

    since: date
    until: date  # inclusive
    team_id: int | None = None
    category_id: int | None = None
    service_id: int | None = None

    @property
    def start(self) -> datetime:
        return day_start(self.since)

    @property
    def end(self) -> datetime:
        """Exclusive end: the organisation's midnight after `until`."""
        return day_start(self.until + timedelta(days=1))

    @property
    def days(self) -> int:
        return (self.until - self.since).days + 1

    def as_query(self) -> dict[str, str]:
        out = {"since": self.since.isoformat(), "until": self.until.isoformat()}
        for name in ("team_id", "category_id", "service_id"):
            value = getattr(self, name)
            if value is not None:
                out[name.removesuffix("_id")] = str(value)
        return out


def _invalid(message: str, field_name: str) -> ApplicationError:
    return ApplicationError(
        message, code="invalid_period", status=422, detail={field_name: [message]}
    )


def analytics_filters_clean(
    *,
    since: date | None = None,
    until: date | None = None,
    team_id: int | None = None,
    category_id: int | None = None,
    service_id: int | None = None,
    default_days: int = 90,
) -> AnalyticsFilters:
    """Check a period (default: the last 90 days, ending on the organisation's today) and the
    dimension ids."""
    today = organisation_today()
    until = until or today
    since = since or until - timedelta(days=default_days - 1)
    for name, value in (("since", since), ("until", until)):
        if not EARLIEST <= value <= LATEST:
            raise _invalid(f"{name} must be between 2000-01-01 and 2100-01-01.", name)
    if since > until:
        raise _invalid("The period starts after it ends.", "since")
    if (until - since).days + 1 > MAX_SPAN_DAYS:
        raise _invalid(f"A period is at most {MAX_SPAN_DAYS} days.", "since")
    for key, ident in (("team", team_id), ("category", category_id), ("service", service_id)):
        if ident is not None and not 1 <= ident <= 2**63 - 1:
            raise ApplicationError(
                f"Unknown {key}.", code="invalid_filter", status=422, detail={key: ["Unknown."]}
            )
    return AnalyticsFilters(since, until, team_id, category_id, service_id)


def analytics_scope(*, user: User, filters: AnalyticsFilters) -> AnalyticsFilters:
    """Apply the user's visibility: supervisors are kept to their own team; agents refused."""
    profile = staff_profile_of(user=user)
    if profile.sees_all_teams:
        return filters
    if profile.role == Role.SUPERVISOR and profile.team_id is not None:
        if filters.team_id not in (None, profile.team_id):
            raise PermissionDenied("You can see your own team's figures only.")
        return replace(filters, team_id=profile.team_id)
    raise PermissionDenied("Loyalty analytics are for supervisors and managers.")


def analytics_allowed(*, user: User) -> bool:
    try:
        profile = staff_profile_of(user=user)
    except Exception:  # no staff profile: not allowed
        return False
    return profile.sees_all_teams or (
        profile.role == Role.SUPERVISOR and profile.team_id is not None
    )


def _rollups(filters: AnalyticsFilters) -> QuerySet[DailyRollup]:
    return _dims_rollups(
        DailyRollup.objects.filter(day__gte=filters.since, day__lte=filters.until), filters
    )


def _edges(filters: AnalyticsFilters) -> tuple[date, date]:
    """The whole weeks of a period: Mondays from the first (inclusive) to the second
    (exclusive); the days before the first and from the second on are partial weeks."""
    first = week_of(filters.since)
    if first < filters.since:
        first += timedelta(days=7)
    after = week_of(filters.until + timedelta(days=1))
    return first, max(first, after)


def _rollup_sums(
    filters: AnalyticsFilters, dims: tuple[str, ...], sums: dict[str, str], *, weekly: bool
) -> list[dict[str, Any]]:
    """Sums of rollup columns (`sums`: output name -> column) over a period per `dims`
    (and per week if `weekly`, as "week"): whole weeks from `WeeklyRollup`, the partial weeks
    at the period's edges from `DailyRollup`, so a year reads ~52 rows per key, not ~365."""
    first, after = _edges(filters)
    reads: list[tuple[QuerySet[Any], str]] = []
    if after > first:
        weeks = WeeklyRollup.objects.filter(week__gte=first, week__lt=after)
        reads.append((_dims_rollups(weeks, filters), "week"))
    in_period = Q(day__gte=filters.since, day__lte=filters.until)
    if after > first:
        in_period &= Q(day__lt=first) | Q(day__gte=after)
    if not (after > first and first == filters.since and after > filters.until):
        days = DailyRollup.objects.filter(in_period)
        reads.append((_dims_rollups(days, filters), "day"))
    out: dict[tuple[Any, ...], dict[str, Any]] = {}
    for qs, period in reads:
        group = (*dims, period) if weekly else dims
        rows = qs.values(*group).annotate(**{f"s_{n}": Sum(c) for n, c in sums.items()})
        for r in rows.order_by():
            key = tuple(r[d] for d in dims)
            if weekly:
                key = (*key, r[period] if period == "week" else week_of(r[period]))
            slot = out.get(key)
            if slot is None:
                slot = out[key] = {d: r[d] for d in dims} | dict.fromkeys(sums, 0)
                if weekly:
                    slot["week"] = key[-1]
            for name in sums:
                slot[name] += r[f"s_{name}"] or 0
    return list(out.values())


def _dims_rollups(qs: QuerySet[Any], filters: AnalyticsFilters) -> QuerySet[Any]:
    if filters.team_id is not None:
        qs = qs.filter(team_key=filters.team_id)
    if filters.category_id is not None:
        qs = qs.filter(category_key=filters.category_id)
    if filters.service_id is not None:
        qs = qs.filter(service_key=filters.service_id)
    return qs


def _facts(filters: AnalyticsFilters) -> QuerySet[CaseFact]:
    return _dims_filter(
        CaseFact.objects.filter(opened_at__gte=filters.start, opened_at__lt=filters.end), filters
    )


def _dims_filter(qs: QuerySet[CaseFact], filters: AnalyticsFilters) -> QuerySet[CaseFact]:
    if filters.team_id is not None:
        qs = qs.filter(team_id=filters.team_id)
    if filters.category_id is not None:
        qs = qs.filter(category_id=filters.category_id)
    if filters.service_id is not None:
        qs = qs.filter(service_id=filters.service_id)
    return qs


def _names() -> dict[str, dict[int, str]]:
    return {
        "team": {t.pk: t.name for t in team_list()},
        "category": {
            c.pk: str(c) for c in category_list(active_only=False).select_related("parent")
        },
        "service": {s.pk: s.name for s in service_list(active_only=False)},
        "root_cause": {r.pk: r.name for r in root_cause_list(active_only=False)},
    }


def _avg(total: int, count: int) -> float | None:
    return round(total / count, 2) if count else None


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


# --- overview -----------------------------------------------------------------------------------


@dataclass
class WeekRow:
    week: date
    opened: int = 0
    resolved: int = 0
    resolved_sla_met: int = 0
    promises_kept: int = 0
    promises_broken: int = 0
    cost: Decimal = Decimal("0.00")
    csat_sum: int = 0
    csat_count: int = 0
    fair_outcome_sum: int = 0
    fair_outcome_count: int = 0
    fair_process_sum: int = 0
    fair_process_count: int = 0
    fair_treatment_sum: int = 0
    fair_treatment_count: int = 0

    @property
    def sla_pct(self) -> float | None:
        return _pct(self.resolved_sla_met, self.resolved)

    @property
    def promises_kept_pct(self) -> float | None:
        return _pct(self.promises_kept, self.promises_kept + self.promises_broken)

    @property
    def csat_avg(self) -> float | None:
        return round(self.csat_sum / self.csat_count, 2) if self.csat_count else None

    @property
    def fair_outcome_avg(self) -> float | None:
        return _avg(self.fair_outcome_sum, self.fair_outcome_count)

    @property
    def fair_process_avg(self) -> float | None:
        return _avg(self.fair_process_sum, self.fair_process_count)

    @property
    def fair_treatment_avg(self) -> float | None:
        return _avg(self.fair_treatment_sum, self.fair_treatment_count)


@dataclass
class Overview:
    filters: AnalyticsFilters
    weeks: list[WeekRow]
    totals: WeekRow
    at_risk_customers: int
    root_causes: list[dict[str, Any]] = field(default_factory=list)
    # Win-back offers accepted in the period: a retention cost, kept apart from the remedies'
    # recovery cost (`totals.cost`); None when a team, category or service is chosen.
    retention_cost: Decimal | None = None


SUMS = (
    "opened",
    "resolved",
    "resolved_sla_met",
    "promises_kept",
    "promises_broken",
    "cost",
    "csat_sum",
    "csat_count",
    "fair_outcome_sum",
    "fair_outcome_count",
    "fair_process_sum",
    "fair_process_count",
    "fair_treatment_sum",
    "fair_treatment_count",
)


def analytics_overview(*, filters: AnalyticsFilters) -> Overview:
    """Weekly figures and top root causes per week and root cause from the weekly rollups
    (whole weeks) and the daily ones (the partial weeks at the edges), the at-risk count and
    the win-back offers' retention cost."""
    by_week_cause = _rollup_sums(filters, ("root_cause_key",), {n: n for n in SUMS}, weekly=True)
    weeks: dict[date, WeekRow] = {}
    week = week_of(filters.since)
    while week <= filters.until:
        weeks[week] = WeekRow(week=week)
        week += timedelta(days=7)
    totals = WeekRow(week=week_of(filters.since))
    causes: dict[int, dict[str, Any]] = {}
    for row in by_week_cause:
        target = weeks[row["week"]]
        for name in SUMS:
            value = row[name]
            setattr(target, name, getattr(target, name) + value)
            setattr(totals, name, getattr(totals, name) + value)
        if row["root_cause_key"]:
            cause = causes.setdefault(
                row["root_cause_key"], {"failures": 0, "cost": Decimal("0.00")}
            )
            cause["failures"] += row["opened"]
            cause["cost"] += row["cost"]
    names = _names()["root_cause"]
    top = sorted(
        ((key, c) for key, c in causes.items() if c["failures"] or c["cost"]),
        key=lambda item: (-item[1]["failures"], item[0]),
    )[:10]
    return Overview(
        filters=filters,
        weeks=list(weeks.values()),
        totals=totals,
        at_risk_customers=CustomerRisk.objects.filter(status=LoyaltyStatus.AT_RISK).count(),
        root_causes=[
            {
                "root_cause_id": key,
                "root_cause": names.get(key, f"#{key}"),
                "failures": c["failures"],
                "cost": c["cost"],
            }
            for key, c in top
        ],
        retention_cost=retention_cost(filters=filters),
    )


# --- operations report and MTBF ----------------------------------------------------------------


def _repeats_in_period(filters: AnalyticsFilters, rows: list[Any]) -> dict[Any, int]:
    """For each root cause × service × category: how many of the period's failures were a
    customer failing again in the same key (their previous failure there is in the period
    too). Failures minus these is the exact number of distinct customers hurt.

    The rollups count each repeat on its previous failure's day (`key_next`), so their sum over
    the period counts those repeats plus the ones opened after the period; the latter are read
    from the failures opened after the period (none for a period ending today). For a period
    long past, reading the period's repeats directly is cheaper, so that is done instead. Both
    reads are index ranges; both give the same exact figure."""
    team = filters.team_id is not None
    prev = "team_key_prev_at" if team else "key_prev_at"
    days_after = (organisation_today() - filters.until).days
    if days_after > filters.days:
        direct = _facts(filters).filter(**{f"{prev}__gte": filters.start})
        return _count_by_key(direct)
    later = _dims_filter(
        CaseFact.objects.filter(
            opened_at__gte=filters.end,
            **{f"{prev}__gte": filters.start, f"{prev}__lt": filters.end},
        ),
        filters,
    )
    after = _count_by_key(later)
    out = {}
    for r in rows:
        key = (r["root_cause_key"], r["service_key"], r["category_key"])
        out[key] = (r["again"] or 0) - after.get(key, 0)
    return out


def _count_by_key(facts: QuerySet[CaseFact]) -> dict[Any, int]:
    return {
        (r["root_cause_id"] or 0, r["service_id"] or 0, r["category_id"] or 0): r["n"]
        for r in facts.values("root_cause_id", "service_id", "category_id")
        .annotate(n=Count("pk"))
        .order_by()
    }


def operations_report(*, filters: AnalyticsFilters, limit: int = 200) -> list[dict[str, Any]]:
    """What to fix first: per root cause, service and category, the failures, customers hurt,
    recovery cost and mean severity weight (critical 4 … low 1), ranked by
    customers hurt × severity weight × (cost + 1).

    Failures, cost, severity points and repeats are sums over the weekly rollups (whole
    weeks) and the daily ones (partial weeks at the edges); customers hurt is exact (see
    `_repeats_in_period`)."""
    sums = {
        "failures": "opened",
        "cost": "cost",
        "severity_points": "severity_points",
        "repeats": "repeats",
        "again": "team_key_next" if filters.team_id is not None else "key_next",
    }
    rows = [
        r
        for r in _rollup_sums(
            filters, ("root_cause_key", "service_key", "category_key"), sums, weekly=False
        )
        if r["failures"] > 0
    ]
    again = _repeats_in_period(filters, rows)
    names = _names()
    incidents = dict(
        IncidentFact.objects.filter(closed_at__gte=filters.start, closed_at__lt=filters.end)
        .values("root_cause_id")
        .annotate(n=Count("pk"))
        .values_list("root_cause_id", "n")
    )
    out = []
    for r in rows:
        cause, service, category = r["root_cause_key"], r["service_key"], r["category_key"]
        severity = r["severity_points"] / r["failures"]
        cost = r["cost"] or Decimal("0.00")
        hurt = r["failures"] - again.get((cause, service, category), 0)
        out.append(
            {
                "root_cause_id": cause or None,
                "root_cause": names["root_cause"].get(cause, "Not recorded")
                if cause
                else "Not recorded",
                "service_id": service or None,
                "service": names["service"].get(service, "—") if service else "—",
                "category_id": category or None,
                "category": names["category"].get(category, "—") if category else "—",
                "failures": r["failures"],
                "customers_hurt": hurt,
                "repeat_failures": r["repeats"],
                "cost": cost,
                "severity_weight": round(severity, 2),
                "incidents": incidents.get(cause, 0) if cause else 0,
                "priority": round(hurt * severity * float(cost + 1), 2),
            }
        )
    out.sort(key=lambda row: (-row["priority"], -row["failures"], row["root_cause"]))
    return out[:limit]


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    """An organisation day's first moment and the next day's (a DST day is 23 or 25 hours)."""
    return day_start(day), day_start(day + timedelta(days=1))


def mtbf_report(*, filters: AnalyticsFilters, by: str = "service_category") -> list[dict[str, Any]]:
    """Mean time between failures per service and category over the period.

    `mtbf_hours` is the period's length divided by its failures (operating time per failure);
    `mean_gap_hours` is the mean gap between consecutive failures, first to last. Counts and
    the first and last day come from the daily rollups; the exact first and last moment from
    the failures of those days only.
    """
    keys = {"service_category": ("service", "category"), "service": ("service",)}
    if by not in keys:
        by = "service_category"
    dims = keys[by]
    rows = list(
        _rollups(filters)
        .filter(opened__gt=0)
        .values(*(f"{d}_key" for d in dims))
        .annotate(failures=Sum("opened"), first_day=Min("day"), last_day=Max("day"))
        .order_by()
    )
    firsts: dict[tuple[int, ...], datetime] = {}
    lasts: dict[tuple[int, ...], datetime] = {}
    for day in sorted({r["first_day"] for r in rows} | {r["last_day"] for r in rows}):
        start, end = _day_bounds(day)
        # one range on opened_at (two would let SQLite use the period's and scan all of it)
        edge = (
            _dims_filter(
                CaseFact.objects.filter(
                    opened_at__gte=max(start, filters.start), opened_at__lt=min(end, filters.end)
                ),
                filters,
            )
            .values(*(f"{d}_id" for d in dims))
            .annotate(first=Min("opened_at"), last=Max("opened_at"))
            .order_by()
        )
        for e in edge:
            key = tuple(e[f"{d}_id"] or 0 for d in dims)
            firsts.setdefault(key, e["first"])  # days ascend: the earliest edge day wins
            lasts[key] = e["last"]  # … and the latest edge day is seen last
    names = _names()
    period_hours = (filters.end - filters.start).total_seconds() / 3600
    out = []
    for r in rows:
        key = tuple(r[f"{d}_key"] for d in dims)
        n = r["failures"]
        # (a rollup always has its failures; the day's bounds only if they were deleted since)
        first = firsts.get(key) or _day_bounds(r["first_day"])[0]
        last = lasts.get(key) or _day_bounds(r["last_day"])[0]
        span = (last - first).total_seconds() / 3600
        service = r.get("service_key") or None
        category = r.get("category_key") or None
        out.append(
            {
                "service_id": service,
                "service": names["service"].get(service or 0, "—"),
                "category_id": category,
                "category": names["category"].get(category or 0, "—"),
                "failures": n,
                "first_failure": first,
                "last_failure": last,
                "mtbf_hours": round(period_hours / n, 2),
                "mean_gap_hours": round(span / (n - 1), 2) if n > 1 else None,
            }
        )
    out.sort(key=lambda row: (row["mtbf_hours"], row["service"], row["category"]))
    return out


# --- recovery paradox ---------------------------------------------------------------------------


SPLITS: dict[str, tuple[str, Any]] = {
    "severity": (
        "Severity",
        When_(
            When(severity__lte=2, then=Value("severe")),
            default=Value("not severe"),
        ),
    ),
    "repeat": (
        "First or repeat failure",
        When_(When(repeat=True, then=Value("repeat")), default=Value("first")),
    ),
    "promise": (
        "Promises",
        When_(
            When(promises_broken__gt=0, then=Value("broken")),
            When(promises_kept__gt=0, then=Value("kept")),
            default=Value("none made"),
        ),
    ),
    "steps": (
        "Required steps",
        When_(When(steps_all_done=True, then=Value("all done")), default=Value("not all done")),
    ),
    "band": (
        "Recovery satisfaction",
        When_(
            When(csat__gte=4, then=Value("high")),
            When(csat=3, then=Value("middle")),
            When(csat__lte=2, then=Value("low")),
            default=Value("no survey"),
        ),
    ),
}


def _group(values: dict[str, Any], small: int) -> dict[str, Any]:
    n = values["n"]
    csat_mean, csat_low, csat_high = mean_ci(
        float(values["csat_sum"] or 0), float(values["csat_sq"] or 0), values["csat_n"] or 0
    )
    wua_low, wua_high = wilson(values["wua_yes"] or 0, values["wua_n"] or 0)
    ret_low, ret_high = wilson(values["retained"] or 0, values["ret_n"] or 0)
    nps_n = values["nps_n"] or 0
    promoters, detractors = values["promoters"] or 0, values["detractors"] or 0
    return {
        "count": n,
        "small": n < small,
        "csat": {
            "n": values["csat_n"] or 0,
            "mean": csat_mean,
            "ci_low": csat_low,
            "ci_high": csat_high,
        },
        "nps": {
            "n": nps_n,
            "score": round(100 * (promoters - detractors) / nps_n, 1) if nps_n else None,
        },
        "would_use_again": {
            "n": values["wua_n"] or 0,
            "share": (values["wua_yes"] or 0) / values["wua_n"] if values["wua_n"] else None,
            "ci_low": wua_low,
            "ci_high": wua_high,
        },
        "retention": {
            "n": values["ret_n"] or 0,
            "share": (values["retained"] or 0) / values["ret_n"] if values["ret_n"] else None,
            "ci_low": ret_low,
            "ci_high": ret_high,
        },
    }


def _measures(
    prefix: str, csat: str, nps: str, wua: str, retained: Q, eligible: Q
) -> dict[str, Any]:
    return {
        "n": Count("pk"),
        "csat_n": Count(csat),
        "csat_sum": Sum(csat),
        "csat_sq": Sum(F(csat) * F(csat)),
        "nps_n": Count(nps),
        "promoters": Count("pk", filter=Q(**{f"{nps}__gte": 9})),
        "detractors": Count("pk", filter=Q(**{f"{nps}__lte": 6})),
        "wua_n": Count(wua),
        "wua_yes": Count("pk", filter=Q(**{f"{wua}__gte": 4})),
        "ret_n": Count("pk", filter=eligible),
        "retained": Count("pk", filter=eligible & retained),
    }


def recovery_paradox(*, filters: AnalyticsFilters, retention_days: int = 90) -> dict[str, Any]:
    """Recovered failures in the period against customers who never had a failure.

    Each failure resolved in the period counts once (its case's survey). A recovered customer
    is retained if not lost within `retention_days` of the resolution; only resolutions at least
    that long ago are counted for retention. Customers with no failure at all (created before
    the period ends) are the baseline: their latest survey and whether they were lost by the end
    of the period plus `retention_days`.
    """
    if not 1 <= retention_days <= 3650:
        raise ApplicationError(
            "retention_days must be between 1 and 3650.",
            code="invalid_retention_days",
            status=422,
            detail={"retention_days": ["Between 1 and 3650."]},
        )
    small = int(amends_setting("LOYALTY_SMALL_GROUP", 30))
    now = timezone.now()
    window = timedelta(days=retention_days)
    lost_at = CustomerRisk.objects.filter(customer_id=OuterRef("customer_id")).values("lost_at")[:1]
    recovered = (
        CaseFact.objects.filter(
            is_open=False, resolved_at__gte=filters.start, resolved_at__lt=filters.end
        )
        .annotate(lost_at=lost_at)
        .annotate(retention_deadline=F("resolved_at") + window)
    )
    if filters.team_id is not None:
        recovered = recovered.filter(team_id=filters.team_id)
    if filters.category_id is not None:
        recovered = recovered.filter(category_id=filters.category_id)
    if filters.service_id is not None:
        recovered = recovered.filter(service_id=filters.service_id)
    measures = _measures(
        "",
        "csat",
        "nps",
        "would_use_again",
        retained=Q(lost_at__isnull=True) | Q(lost_at__gt=F("retention_deadline")),
        eligible=Q(resolved_at__lte=now - window),
    )
    # One grouped read by every split at once; each figure is a count or a sum, so the
    # overall group and every split are added up from these few rows.
    groups = list(
        recovered.annotate(**{f"g_{key}": expression for key, (_, expression) in SPLITS.items()})
        .values(*(f"g_{key}" for key in SPLITS))
        .annotate(**measures)
        .order_by()
    )
    names = list(measures)

    def added(rows: list[dict[str, Any]]) -> dict[str, Any]:
        return {name: sum(r[name] or 0 for r in rows) for name in names}

    overall = _group(added(groups), small)
    splits = []
    for key, (label, _) in SPLITS.items():
        by_value: dict[str, list[dict[str, Any]]] = {}
        for r in groups:
            by_value.setdefault(r[f"g_{key}"], []).append(r)
        splits.append(
            {
                "split": key,
                "label": label,
                "groups": [
                    {"group": value, **_group(added(by_value[value]), small)}
                    for value in sorted(by_value)
                ],
            }
        )
    horizon = filters.end + window
    # Customers who never had a failure (first_failure_at kept on the score row by the hooks),
    # created before the period ends: a partial index holds exactly them.
    # (Driven by that index, each row probing its customer: a join would let SQLite walk every
    # customer created before the end instead.)
    never = CustomerRisk.objects.filter(first_failure_at__isnull=True).filter(
        Exists(
            customer_search()
            .order_by()
            .filter(pk=OuterRef("customer_id"), created_at__lt=filters.end)
        )
    )
    baseline = _group(
        never.aggregate(
            **_measures(
                "",
                "last_csat",
                "last_nps",
                "last_would_use_again",
                retained=~Q(status=LoyaltyStatus.LOST) | Q(lost_at__gt=horizon),
                eligible=Q(pk__isnull=False) if horizon <= now else Q(pk__isnull=True),
            )
        ),
        small,
    )
    return {
        "since": filters.since,
        "until": filters.until,
        "retention_days": retention_days,
        "small_group": small,
        "recovered": overall,
        "never_failed": baseline,
        "splits": splits,
    }


# --- customers ----------------------------------------------------------------------------------


def at_risk_list(*, user: User, min_score: int = 0) -> QuerySet[CustomerRisk]:
    """At-risk customers, highest risk first, then the most valuable (VIP)."""
    staff_profile_of(user=user)
    return (
        CustomerRisk.objects.filter(status=LoyaltyStatus.AT_RISK, score__gte=min_score)
        .select_related("customer")
        .order_by("-score", "-value_rank", "customer_id")
    )


def customer_risk_get(*, customer_id: int) -> CustomerRisk | None:
    return CustomerRisk.objects.filter(customer_id=customer_id).first()


def customer_loyalty_events(*, customer_id: int, limit: int = 20) -> list[LoyaltyEvent]:
    return list(
        LoyaltyEvent.objects.filter(customer_id=customer_id)
        .select_related("actor")
        .order_by("-created_at", "-id")[:limit]
    )


def lost_customer_list(
    *,
    lost_reason: str = "",
    category_id: int | None = None,
    lost_since: date | None = None,
    lost_until: date | None = None,
) -> QuerySet[CustomerRisk]:
    """Lost customers for a win-back campaign, by reason (contains), category of a failure and
    when they were lost."""
    qs = CustomerRisk.objects.filter(status=LoyaltyStatus.LOST)
    if lost_reason.strip():
        qs = qs.filter(lost_reason__icontains=lost_reason.strip())
    if lost_since is not None:
        qs = qs.filter(lost_at__gte=day_start(lost_since))
    if lost_until is not None:
        qs = qs.filter(lost_at__lt=day_start(lost_until + timedelta(days=1)))
    if category_id is not None:
        qs = qs.filter(
            Exists(
                CaseFact.objects.filter(
                    customer_id=OuterRef("customer_id"), category_id=category_id
                )
            )
        )
    return qs.select_related("customer").order_by("lost_at", "customer_id")


def campaign_list() -> QuerySet[Campaign]:
    return Campaign.objects.select_related("remedy_kind", "created_by").order_by(
        "-created_at", "-id"
    )


def campaign_get(*, campaign_id: int) -> Campaign:
    return Campaign.objects.select_related("remedy_kind", "created_by").get(pk=campaign_id)


def campaign_results(*, campaign: Campaign) -> dict[str, Any]:
    """Targets, contacted, responded, accepted, won back, and the accepted offers' cost as
    `retention_cost` (a cost of keeping customers, never counted as recovery cost)."""
    agg = campaign.targets.aggregate(
        targets=Count("pk"),
        contacted=Count("pk", filter=Q(contacted_at__isnull=False)),
        responded=Count("pk", filter=Q(responded_at__isnull=False)),
        accepted=Count("pk", filter=Q(accepted_at__isnull=False)),
        won_back=Count("pk", filter=Q(won_back_at__isnull=False)),
        retention_cost=Sum("cost"),
    )
    agg["retention_cost"] = agg["retention_cost"] or Decimal("0.00")
    return agg


def retention_cost(*, filters: AnalyticsFilters) -> Decimal | None:
    """What the win-back offers accepted in the period cost (retention, not recovery). Campaigns
    are not split by team, category or service: None when the filters name one."""
    if any(v is not None for v in (filters.team_id, filters.category_id, filters.service_id)):
        return None
    total = CampaignTarget.objects.filter(
        accepted_at__gte=filters.start, accepted_at__lt=filters.end
    ).aggregate(total=Sum("cost"))["total"]
    return total or Decimal("0.00")


def campaign_target_get(*, campaign_id: int, customer_id: int) -> CampaignTarget:
    return CampaignTarget.objects.select_related("campaign").get(
        campaign_id=campaign_id, customer_id=customer_id
    )


def campaign_target_list(*, campaign: Campaign) -> QuerySet[CampaignTarget]:
    return campaign.targets.select_related("customer").order_by("id")


# --- drill-down ---------------------------------------------------------------------------------


DRILL_METRICS = ("opened", "resolved", "sla_missed", "promises_broken", "cost", "root_cause")


def drill_case_list(
    *,
    user: User,
    filters: AnalyticsFilters,
    metric: str = "opened",
    root_cause_id: int | None = None,
) -> QuerySet[Case]:
    """The cases behind a figure: the same filters, then what the figure counts."""
    if metric not in DRILL_METRICS:
        raise ApplicationError(
            f"Unknown figure {metric!r}.",
            code="invalid_metric",
            status=422,
            detail={"metric": [f"One of {', '.join(DRILL_METRICS)}."]},
        )
    if metric in ("resolved", "sla_missed"):
        facts = CaseFact.objects.filter(
            is_open=False, resolved_at__gte=filters.start, resolved_at__lt=filters.end
        )
        for name in ("team_id", "category_id", "service_id"):
            if getattr(filters, name) is not None:
                facts = facts.filter(**{name: getattr(filters, name)})
        if metric == "sla_missed":
            facts = facts.filter(sla_met=False)
    else:
        facts = _facts(filters)
        if metric == "promises_broken":
            facts = facts.filter(promises_broken__gt=0)
        elif metric == "cost":
            facts = facts.filter(cost__gt=0)
    if root_cause_id is not None:
        facts = facts.filter(root_cause_id=root_cause_id)
    return (
        case_visible_to(user=user)
        .filter(pk__in=facts.values("case_id"))
        .select_related("customer", "category__parent", "team")
        .order_by("-created_at", "-id")
    )

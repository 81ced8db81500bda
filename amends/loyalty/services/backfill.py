"""Build the loyalty tables for data that existed before the app (or after a bulk load).

The hooks keep facts, rollups and scores current one event at a time; this fills them in bulk,
set-based and in batches, so a million cases take minutes rather than the hours the per-event
path would. It reads the case tables directly (a maintenance tool, not a request path) and is
re-runnable: facts are rebuilt for the cases it is given, rollups and scores from all facts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Case as Case_
from django.db.models import Count, IntegerField, Min, Q, Sum, Value, When
from django.db.models.functions import TruncDate
from django.utils import timezone

from amends.cases.choices import OPEN_STATUSES, StepState
from amends.cases.models import Case, CaseStep
from amends.commitments.choices import CommitmentStatus
from amends.commitments.models import Commitment
from amends.core.conf import amends_setting
from amends.customers.choices import CustomerTier
from amends.customers.models import Customer
from amends.loyalty.models import ZERO, CaseFact, CustomerRisk, DailyRollup, WeeklyRollup
from amends.loyalty.services.facts import FAIRNESS, MEASURES, organisation_zone, week_of
from amends.loyalty.services.risk import (
    RiskInputs,
    _automatic_status,
    _recent,
    customer_risk_refresh,
    risk_compute,
    risk_weights,
)
from amends.remedies.choices import COST_STATUSES
from amends.remedies.models import Remedy

Progress = Callable[[str], None]
# The weight of a severity as `facts.severity_weight` gives it, in SQL.
SEVERITY_WEIGHT = Case_(
    When(severity=1, then=Value(4)),
    When(severity=2, then=Value(3)),
    When(severity=3, then=Value(2)),
    default=Value(1),
    output_field=IntegerField(),
)
CASE_FIELDS = (
    "id",
    "customer_id",
    "created_at",
    "status",
    "resolved_at",
    "resolve_due_at",
    "severity",
    "team_id",
    "category_id",
    "service_id",
    "root_cause_id",
)


def _by_case(rows: Any, key: str = "case_id") -> dict[int, dict[str, Any]]:
    return {r[key]: r for r in rows}


def facts_backfill(*, batch: int = 5000, progress: Progress | None = None) -> int:
    """(Re)build a fact for every case, in id order (ids rise with time), batch by batch."""
    seen: set[int] = set()  # customers with an earlier failure, for "first or repeat"
    done = 0
    last = 0
    while True:
        cases = list(Case.objects.filter(pk__gt=last).order_by("pk").values(*CASE_FIELDS)[:batch])
        if not cases:
            break
        ids = [c["id"] for c in cases]
        last = ids[-1]
        promises = _by_case(
            Commitment.objects.filter(case_id__in=ids)
            .values("case_id")
            .annotate(
                kept=Count("pk", filter=Q(status=CommitmentStatus.KEPT)),
                broken=Count("pk", filter=Q(status=CommitmentStatus.BROKEN)),
            )
            .order_by()
        )
        costs = _by_case(
            Remedy.objects.filter(case_id__in=ids, status__in=COST_STATUSES)
            .values("case_id")
            .annotate(total=Sum("amount"))
            .order_by()
        )
        steps = _by_case(
            CaseStep.objects.filter(case_id__in=ids, required=True)
            .values("case_id")
            .annotate(n=Count("pk"), done=Count("pk", filter=Q(state=StepState.DONE)))
            .order_by()
        )
        facts = []
        for c in cases:
            is_open = c["status"] in OPEN_STATUSES
            resolved = None if is_open else c["resolved_at"]
            step = steps.get(c["id"], {"n": 0, "done": 0})
            promise = promises.get(c["id"], {"kept": 0, "broken": 0})
            facts.append(
                CaseFact(
                    case_id=c["id"],
                    customer_id=c["customer_id"],
                    opened_at=c["created_at"],
                    resolved_at=resolved,
                    is_open=is_open,
                    severity=c["severity"],
                    team_id=c["team_id"],
                    category_id=c["category_id"],
                    service_id=c["service_id"],
                    root_cause_id=c["root_cause_id"],
                    sla_met=None if resolved is None else resolved <= c["resolve_due_at"],
                    repeat=c["customer_id"] in seen,
                    promises_kept=promise["kept"],
                    promises_broken=promise["broken"],
                    steps_all_done=step["n"] > 0 and step["n"] == step["done"],
                    cost=(costs.get(c["id"], {}).get("total") or ZERO),
                )
            )
            seen.add(c["customer_id"])
        with transaction.atomic():
            CaseFact.objects.filter(case_id__in=ids).delete()
            CaseFact.objects.bulk_create(facts, batch_size=1000)
        done += len(facts)
        if progress:
            progress(f"facts: {done}")
    facts_history_rebuild()
    return done


@transaction.atomic
def facts_history_rebuild() -> int:
    """Set every fact's previous failure of the same customer in the same key (root cause,
    service, category; and with the team) in one statement, a window over all facts."""
    table = CaseFact._meta.db_table
    distinct = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
    window = "PARTITION BY customer_id, {dims} ORDER BY opened_at, case_id"
    dims = "root_cause_id, service_id, category_id"
    sql = f"""
        UPDATE {table} SET key_prev_at = p.kp, team_key_prev_at = p.tkp
        FROM (
            SELECT case_id,
                   LAG(opened_at) OVER ({window.format(dims=dims)}) AS kp,
                   LAG(opened_at) OVER ({window.format(dims="team_id, " + dims)}) AS tkp
            FROM {table}
        ) AS p
        WHERE {table}.case_id = p.case_id
          AND ({table}.key_prev_at {distinct} p.kp OR {table}.team_key_prev_at {distinct} p.tkp)
    """  # noqa: S608  # model metadata only
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return int(cursor.rowcount or 0)


@transaction.atomic
def rollups_rebuild() -> int:
    """Replace the daily and weekly rollups with the sums of every fact's contribution, by the
    organisation's calendar days (run again after changing the organisation's time zone).
    Returns the number of daily rows."""
    dims = ("team_id", "category_id", "service_id", "root_cause_id")
    zone = organisation_zone()
    sums: dict[tuple[Any, ...], dict[str, Any]] = defaultdict(lambda: dict.fromkeys(MEASURES, 0))
    opened = (
        CaseFact.objects.annotate(day=TruncDate("opened_at", tzinfo=zone))
        .values("day", *dims)
        .annotate(
            n=Count("pk"),
            kept=Sum("promises_kept"),
            broken=Sum("promises_broken"),
            cost=Sum("cost"),
            csat_sum=Sum("csat"),
            csat_n=Count("csat"),
            severity_points=Sum(SEVERITY_WEIGHT),
            repeats=Count("pk", filter=Q(repeat=True)),
            **{f"{name}_sum": Sum(name) for name in FAIRNESS},
            **{f"{name}_count": Count(name) for name in FAIRNESS},
        )
        .order_by()
    )
    for r in opened:
        slot = sums[(r["day"], *(r[d] or 0 for d in dims))]
        slot["opened"] += r["n"]
        slot["promises_kept"] += r["kept"] or 0
        slot["promises_broken"] += r["broken"] or 0
        slot["cost"] += r["cost"] or ZERO
        slot["csat_sum"] += r["csat_sum"] or 0
        slot["csat_count"] += r["csat_n"]
        slot["severity_points"] += r["severity_points"] or 0
        slot["repeats"] += r["repeats"]
        for name in FAIRNESS:
            slot[f"{name}_sum"] += r[f"{name}_sum"] or 0
            slot[f"{name}_count"] += r[f"{name}_count"]
    resolved = (
        CaseFact.objects.filter(is_open=False, resolved_at__isnull=False)
        .annotate(day=TruncDate("resolved_at", tzinfo=zone))
        .values("day", *dims)
        .annotate(n=Count("pk"), met=Count("pk", filter=Q(sla_met=True)))
        .order_by()
    )
    for r in resolved:
        slot = sums[(r["day"], *(r[d] or 0 for d in dims))]
        slot["resolved"] += r["n"]
        slot["resolved_sla_met"] += r["met"]
    for prev, measure in (("key_prev_at", "key_next"), ("team_key_prev_at", "team_key_next")):
        following = (
            CaseFact.objects.filter(**{f"{prev}__isnull": False})
            .annotate(day=TruncDate(prev, tzinfo=zone))
            .values("day", *dims)
            .annotate(n=Count("pk"))
            .order_by()
        )
        for r in following:
            sums[(r["day"], *(r[d] or 0 for d in dims))][measure] += r["n"]
    weeks: dict[tuple[Any, ...], dict[str, Any]] = defaultdict(lambda: dict.fromkeys(MEASURES, 0))
    for (day, *keys), measures in sums.items():
        slot = weeks[(week_of(day), *keys)]
        for name, value in measures.items():
            slot[name] += value
    _rollup_replace(DailyRollup, "day", sums)
    _rollup_replace(WeeklyRollup, "week", weeks)
    return len(sums)


def _rollup_replace(
    model: type[DailyRollup] | type[WeeklyRollup],
    period: str,
    rows: dict[tuple[Any, ...], dict[str, Any]],
) -> None:
    model._default_manager.all().delete()
    objects: list[Any] = [
        model(
            **{period: day},
            team_key=team,
            category_key=category,
            service_key=service,
            root_cause_key=cause,
            **{k: (Decimal(v) if k == "cost" else v) for k, v in measures.items()},
        )
        for (day, team, category, service, cause), measures in rows.items()
    ]
    model._default_manager.bulk_create(objects, batch_size=2000)


def risks_backfill(
    *, batch: int = 5000, now: datetime | None = None, progress: Progress | None = None
) -> int:
    """Score every customer from their facts; status moves go through the usual service."""
    now = now or timezone.now()
    weights = risk_weights()
    since = now - timedelta(days=int(amends_setting("LOYALTY_REPEAT_WINDOW_DAYS", 180)))
    contract_days = int(amends_setting("LOYALTY_CONTRACT_DAYS", 60))
    signal_days = int(amends_setting("LOYALTY_SIGNAL_WINDOW_DAYS", 60))
    done = 0
    last = 0
    moves: list[int] = []
    while True:
        customers = list(
            Customer.objects.filter(pk__gt=last)
            .order_by("pk")
            .values("id", "tier", "special_handling", "contract_end_date", "loyalty_status")[:batch]
        )
        if not customers:
            break
        ids = [c["id"] for c in customers]
        last = ids[-1]
        agg = _by_case(
            CaseFact.objects.filter(customer_id__in=ids)
            .values("customer_id")
            .annotate(
                open_cases=Count("pk", filter=Q(is_open=True)),
                oldest_open=Min("opened_at", filter=Q(is_open=True)),
                recent=Count("pk", filter=Q(opened_at__gte=since)),
                broken=Sum("promises_broken", filter=Q(opened_at__gte=since)),
                first=Min("opened_at"),
            )
            .order_by(),
            key="customer_id",
        )
        existing = {r.customer_id: r for r in CustomerRisk.objects.filter(customer_id__in=ids)}
        rows = []
        for c in customers:
            a = agg.get(c["id"], {})
            oldest = a.get("oldest_open")
            end = c["contract_end_date"]
            risk = existing.get(c["id"]) or CustomerRisk(customer_id=c["id"])
            inputs = RiskInputs(
                open_cases=a.get("open_cases", 0),
                earlier_failures=max(0, a.get("recent", 0) - 1),
                broken_promises=a.get("broken") or 0,
                oldest_open_days=max(0, (now - oldest).days) if oldest else 0,
                contract_ending=end is not None
                and now.date() <= end <= now.date() + timedelta(days=contract_days),
                special_handling=c["special_handling"],
                upset=_recent(risk.last_upset_at, now=now, days=signal_days),
                churn_intent=_recent(risk.last_churn_intent_at, now=now, days=signal_days),
                low_survey=_recent(risk.last_low_survey_at, now=now, days=signal_days),
            )
            score, factors = risk_compute(inputs, weights)
            risk.score = score
            risk.breakdown = [f.__dict__ for f in factors]
            risk.computed_at = now
            risk.status = c["loyalty_status"]
            risk.value_rank = 2 if c["tier"] == CustomerTier.VIP else 1
            risk.first_failure_at = a.get("first")
            rows.append(risk)
            if _automatic_status(c["loyalty_status"], score, auto=risk.auto_at_risk):
                moves.append(c["id"])
        with transaction.atomic():
            CustomerRisk.objects.bulk_create(
                rows,
                batch_size=1000,
                update_conflicts=True,
                unique_fields=["customer"],
                update_fields=[
                    "score",
                    "breakdown",
                    "computed_at",
                    "status",
                    "value_rank",
                    "first_failure_at",
                ],
            )
        done += len(rows)
        if progress:
            progress(f"risk scores: {done}")
    # The few that cross a threshold move through the service, a batch per transaction.
    for start in range(0, len(moves), 500):
        with transaction.atomic():
            for customer_id in moves[start : start + 500]:
                customer_risk_refresh(customer_id=customer_id, now=now)
    return done

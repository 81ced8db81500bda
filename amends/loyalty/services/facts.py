"""The failure facts and the daily and weekly rollups the dashboards read, kept per event.

Every case event refreshes that case's `CaseFact` from the live rows (through the selectors of
cases, remedies and commitments), then moves the fact's old contribution out of the rollups and
its new one in. So a rollup is always the sum of its facts' contributions, which the property
test checks against live aggregates. Days are the organisation's calendar days (its time zone)
and weeks run Monday to Sunday of that calendar.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import F

from amends.cases.choices import OPEN_STATUSES, StepState
from amends.cases.models import Case
from amends.cases.selectors import case_get, case_steps
from amends.commitments.choices import CommitmentStatus
from amends.commitments.selectors import commitment_list_for_case
from amends.core.organisation import organisation
from amends.loyalty.models import ZERO, CaseFact, DailyRollup, WeeklyRollup
from amends.remedies.choices import COST_STATUSES
from amends.remedies.selectors import remedy_list_for_case

MEASURES = (
    "opened",
    "resolved",
    "resolved_sla_met",
    "promises_kept",
    "promises_broken",
    "cost",
    "csat_sum",
    "csat_count",
    "severity_points",
    "repeats",
    "key_next",
    "team_key_next",
    "fair_outcome_sum",
    "fair_outcome_count",
    "fair_process_sum",
    "fair_process_count",
    "fair_treatment_sum",
    "fair_treatment_count",
)
FAIRNESS = ("fair_outcome", "fair_process", "fair_treatment")
SURVEY_FIELDS = ("csat", "nps", "would_use_again", *FAIRNESS)
# What places a fact in the rollups and in its customer's failure history: when these change,
# the customer's "repeat" flags and previous-failure dates are checked again.
KEY_FIELDS = ("customer_id", "opened_at", "team_id", "category_id", "service_id", "root_cause_id")
RollupKey = tuple[date, int, int, int, int]
Contribution = dict[RollupKey, dict[str, Any]]

# Fields of a fact that come from the live case rows; the survey fields come from the hook.
LIVE_FIELDS = (
    "customer_id",
    "opened_at",
    "resolved_at",
    "is_open",
    "severity",
    "team_id",
    "category_id",
    "service_id",
    "root_cause_id",
    "sla_met",
    "promises_kept",
    "promises_broken",
    "steps_all_done",
    "cost",
)


def organisation_zone() -> ZoneInfo:
    """The zone whose calendar days the rollups and the reports' periods use."""
    return organisation().zone


def local_day(moment: datetime, zone: ZoneInfo | None = None) -> date:
    """The organisation's calendar day of a moment."""
    return moment.astimezone(zone or organisation_zone()).date()


def week_of(day: date) -> date:
    """The Monday of a day's week."""
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True)
class _Dims:
    team: int
    category: int
    service: int
    root_cause: int


def _dims(fact: CaseFact) -> _Dims:
    return _Dims(
        team=fact.team_id or 0,
        category=fact.category_id or 0,
        service=fact.service_id or 0,
        root_cause=fact.root_cause_id or 0,
    )


def severity_weight(severity: int) -> int:
    """Critical (1) weighs 4, high 3, medium 2, low (4) and anything else 1."""
    return {1: 4, 2: 3, 3: 2}.get(severity, 1)


def fact_contribution(fact: CaseFact | None) -> Contribution:
    """What one fact adds to the rollups: its opening day gets the case's counts, cost, promises
    and survey; its resolution day gets the resolution and whether the SLA was met."""
    out: Contribution = {}
    if fact is None:
        return out
    zone = organisation_zone()
    d = _dims(fact)
    opened_key = (local_day(fact.opened_at, zone), d.team, d.category, d.service, d.root_cause)
    out[opened_key] = {
        "opened": 1,
        "promises_kept": fact.promises_kept,
        "promises_broken": fact.promises_broken,
        "cost": fact.cost,
        "csat_sum": fact.csat or 0,
        "csat_count": 1 if fact.csat is not None else 0,
        "severity_points": severity_weight(fact.severity),
        "repeats": 1 if fact.repeat else 0,
    }
    for name in FAIRNESS:
        value = getattr(fact, name)
        out[opened_key][f"{name}_sum"] = value or 0
        out[opened_key][f"{name}_count"] = 1 if value is not None else 0
    for measure, prev in (("key_next", fact.key_prev_at), ("team_key_next", fact.team_key_prev_at)):
        if prev is not None:
            slot = out.setdefault(
                (local_day(prev, zone), d.team, d.category, d.service, d.root_cause), {}
            )
            slot[measure] = slot.get(measure, 0) + 1
    if not fact.is_open and fact.resolved_at is not None:
        resolved_key = (
            local_day(fact.resolved_at, zone),
            d.team,
            d.category,
            d.service,
            d.root_cause,
        )
        slot = out.setdefault(resolved_key, {})
        slot["resolved"] = slot.get("resolved", 0) + 1
        slot["resolved_sla_met"] = slot.get("resolved_sla_met", 0) + (1 if fact.sla_met else 0)
    return out


def contribution_diff(before: Contribution, after: Contribution) -> Contribution:
    """after - before, dropping keys whose every measure nets to zero."""
    delta: dict[RollupKey, dict[str, Any]] = defaultdict(dict)
    for sign, contribution in ((-1, before), (1, after)):
        for key, measures in contribution.items():
            for name, value in measures.items():
                delta[key][name] = delta[key].get(name, 0) + sign * value
    return {k: v for k, v in delta.items() if any(value != 0 for value in v.values())}


def weekly_delta(delta: Contribution) -> Contribution:
    """A daily delta summed per week (the key's day becomes its week's Monday)."""
    weekly: Contribution = {}
    for (day, team, category, service, cause), measures in delta.items():
        slot = weekly.setdefault((week_of(day), team, category, service, cause), {})
        for name, value in measures.items():
            slot[name] = slot.get(name, 0) + value
    return weekly


def rollup_apply(delta: Contribution) -> None:
    """Add a delta to the daily rollup rows and to their weeks' rows, with F() updates (safe
    under concurrent writers)."""
    for model, period, rows in (
        (DailyRollup, "day", delta),
        (WeeklyRollup, "week", weekly_delta(delta)),
    ):
        for (day, team, category, service, root_cause), measures in sorted(rows.items()):
            key = {
                period: day,
                "team_key": team,
                "category_key": category,
                "service_key": service,
                "root_cause_key": root_cause,
            }
            changes = {name: F(name) + value for name, value in measures.items() if value != 0}
            if not changes:
                continue
            manager = model._default_manager
            if manager.filter(**key).update(**changes):
                continue
            try:
                with transaction.atomic():
                    manager.create(**key, **measures)
            except IntegrityError:  # another writer created the row first
                manager.filter(**key).update(**changes)


def _live_values(case: Case) -> dict[str, Any]:
    steps = case_steps(case=case)
    remedies = remedy_list_for_case(case=case)
    commitments = commitment_list_for_case(case=case)
    is_open = case.status in OPEN_STATUSES
    cost = sum(
        (r.amount or ZERO for r in remedies if r.status in COST_STATUSES and r.amount),
        start=ZERO,
    )
    required = [s for s in steps if s.required]
    return {
        "customer_id": case.customer_id,
        "opened_at": case.created_at,
        "resolved_at": None if is_open else case.resolved_at,
        "is_open": is_open,
        "severity": case.severity,
        "team_id": case.team_id,
        "category_id": case.category_id,
        "service_id": case.service_id,
        "root_cause_id": case.root_cause_id,
        "sla_met": (
            None if is_open or case.resolved_at is None else case.resolved_at <= case.resolve_due_at
        ),
        "promises_kept": sum(1 for c in commitments if c.status == CommitmentStatus.KEPT),
        "promises_broken": sum(1 for c in commitments if c.status == CommitmentStatus.BROKEN),
        "steps_all_done": bool(required) and all(s.state == StepState.DONE for s in required),
        "cost": Decimal(cost).quantize(Decimal("0.01")),
    }


def _copy(fact: CaseFact) -> CaseFact:
    clone = CaseFact(**{f.attname: getattr(fact, f.attname) for f in CaseFact._meta.fields})
    clone._state.adding = False
    return clone


def _move(delta: Contribution, key: RollupKey, measure: str, by: int) -> None:
    slot = delta.setdefault(key, {})
    slot[measure] = slot.get(measure, 0) + by


def _history_fix(customer_id: int) -> dict[int, dict[str, Any]]:
    """Re-derive, over one customer's facts in time order, each one's `repeat` flag (an earlier
    failure exists; insight may have set it already) and its previous failure in the same key
    (`key_prev_at`, `team_key_prev_at`); write only the rows that changed and move the repeat
    counts in the rollups. A customer has few failures, so this is one indexed read.
    Returns what changed, by case id."""
    rows = list(
        CaseFact.objects.filter(customer_id=customer_id)
        .order_by("opened_at", "case_id")
        .values("case_id", "repeat", "key_prev_at", "team_key_prev_at", *KEY_FIELDS)
    )
    last_in_key: dict[tuple[Any, ...], Any] = {}
    last_in_team_key: dict[tuple[Any, ...], Any] = {}
    delta: Contribution = {}
    changes: dict[int, dict[str, Any]] = {}
    zone = organisation_zone()
    for index, row in enumerate(rows):
        key = (row["root_cause_id"], row["service_id"], row["category_id"])
        team_key = (row["team_id"], *key)
        wanted: dict[str, Any] = {
            "repeat": row["repeat"] or index > 0,
            "key_prev_at": last_in_key.get(key),
            "team_key_prev_at": last_in_team_key.get(team_key),
        }
        last_in_key[key] = row["opened_at"]
        last_in_team_key[team_key] = row["opened_at"]
        changed = {name: value for name, value in wanted.items() if row[name] != value}
        if not changed:
            continue
        CaseFact.objects.filter(case_id=row["case_id"]).update(**changed)
        changes[row["case_id"]] = changed
        dims = (
            row["team_id"] or 0,
            row["category_id"] or 0,
            row["service_id"] or 0,
            row["root_cause_id"] or 0,
        )
        if "repeat" in changed:
            _move(
                delta,
                (local_day(row["opened_at"], zone), *dims),
                "repeats",
                1 if changed["repeat"] else -1,
            )
        for name, measure in (("key_prev_at", "key_next"), ("team_key_prev_at", "team_key_next")):
            if name in changed:
                old, new = row[name], changed[name]
                if old is not None:
                    _move(delta, (local_day(old, zone), *dims), measure, -1)
                if new is not None:
                    _move(delta, (local_day(new, zone), *dims), measure, 1)
    rollup_apply({k: v for k, v in delta.items() if any(value != 0 for value in v.values())})
    return changes


def _case(case_id: int) -> Case | None:
    try:
        return case_get(case_id=case_id)
    except Case.DoesNotExist:
        return None


@transaction.atomic
def case_fact_refresh(
    *, case_id: int, case: Case | None = None, **survey: int | None
) -> CaseFact | None:
    """Bring one case's fact (and so the rollups) in line with the live rows.

    `survey` may carry csat / nps / would_use_again / fair_* from a survey answer about the
    case. Returns None when the case no longer exists.
    """
    case = case or _case(case_id)
    if case is None:
        return None
    fact = CaseFact.objects.select_for_update().filter(case_id=case_id).first()
    before = _copy(fact) if fact is not None else None
    if fact is None:
        fact = CaseFact(case_id=case_id)
    for name, value in _live_values(case).items():
        setattr(fact, name, value)
    for name in SURVEY_FIELDS:
        if name in survey:
            setattr(fact, name, survey[name])
    if before is not None and all(
        getattr(before, f.attname) == getattr(fact, f.attname) for f in CaseFact._meta.fields
    ):
        return fact
    fact.save()
    rollup_apply(contribution_diff(fact_contribution(before), fact_contribution(fact)))
    if before is None or any(getattr(before, n) != getattr(fact, n) for n in KEY_FIELDS):
        for name, value in _history_fix(fact.customer_id).get(case_id, {}).items():
            setattr(fact, name, value)
        if before is not None and before.customer_id != fact.customer_id:
            _history_fix(before.customer_id)
    return fact


@transaction.atomic
def case_fact_mark_repeat(*, case_id: int) -> None:
    """insight said this case repeats an earlier failure of the same customer."""
    fact = CaseFact.objects.select_for_update().filter(case_id=case_id).first()
    if fact is None:
        fact = case_fact_refresh(case_id=case_id)
    if fact is None or fact.repeat:
        return
    before = _copy(fact)
    fact.repeat = True
    fact.save(update_fields=["repeat"])
    rollup_apply(contribution_diff(fact_contribution(before), fact_contribution(fact)))

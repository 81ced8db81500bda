"""The failure facts and the daily rollups the dashboards read, kept up to date per event.

Every case event refreshes that case's `CaseFact` from the live rows (through the selectors of
cases, remedies and commitments), then moves the fact's old contribution out of the rollups and
its new one in. So a rollup is always the sum of its facts' contributions, which the property
test checks against live aggregates.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q

from amends.cases.choices import OPEN_STATUSES, StepState
from amends.cases.models import Case
from amends.cases.selectors import case_steps
from amends.commitments.choices import CommitmentStatus
from amends.commitments.selectors import commitment_list_for_case
from amends.loyalty.models import ZERO, CaseFact, DailyRollup
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
)
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


def fact_contribution(fact: CaseFact | None) -> Contribution:
    """What one fact adds to the rollups: its opening day gets the case's counts, cost, promises
    and survey; its resolution day gets the resolution and whether the SLA was met."""
    out: Contribution = {}
    if fact is None:
        return out
    d = _dims(fact)
    opened_key = (fact.opened_at.date(), d.team, d.category, d.service, d.root_cause)
    out[opened_key] = {
        "opened": 1,
        "promises_kept": fact.promises_kept,
        "promises_broken": fact.promises_broken,
        "cost": fact.cost,
        "csat_sum": fact.csat or 0,
        "csat_count": 1 if fact.csat is not None else 0,
    }
    if not fact.is_open and fact.resolved_at is not None:
        resolved_key = (fact.resolved_at.date(), d.team, d.category, d.service, d.root_cause)
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


def rollup_apply(delta: Contribution) -> None:
    """Add a delta to the rollup rows with F() updates (safe under concurrent writers)."""
    for (day, team, category, service, root_cause), measures in sorted(delta.items()):
        key = {
            "day": day,
            "team_key": team,
            "category_key": category,
            "service_key": service,
            "root_cause_key": root_cause,
        }
        changes = {name: F(name) + value for name, value in measures.items() if value != 0}
        if not changes:
            continue
        if DailyRollup.objects.filter(**key).update(**changes):
            continue
        try:
            with transaction.atomic():
                DailyRollup.objects.create(**key, **measures)
        except IntegrityError:  # another writer created the row first
            DailyRollup.objects.filter(**key).update(**changes)


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


@transaction.atomic
def case_fact_refresh(*, case_id: int, **survey: int | None) -> CaseFact | None:
    """Bring one case's fact (and so the rollups) in line with the live rows.

    `survey` may carry csat / nps / would_use_again from a survey answer about the case.
    Returns None when the case no longer exists.
    """
    try:
        case = Case.objects.get(pk=case_id)
    except Case.DoesNotExist:
        return None
    fact = CaseFact.objects.select_for_update().filter(case_id=case_id).first()
    before = _copy(fact) if fact is not None else None
    if fact is None:
        fact = CaseFact(case_id=case_id)
        fact.repeat = (
            CaseFact.objects.filter(customer_id=case.customer_id, opened_at__lte=case.created_at)
            .filter(Q(opened_at__lt=case.created_at) | Q(case_id__lt=case_id))
            .exists()
        )
    for name, value in _live_values(case).items():
        setattr(fact, name, value)
    for name in ("csat", "nps", "would_use_again"):
        if name in survey:
            setattr(fact, name, survey[name])
    if before is not None and all(
        getattr(before, f.attname) == getattr(fact, f.attname) for f in CaseFact._meta.fields
    ):
        return fact
    fact.save()
    rollup_apply(contribution_diff(fact_contribution(before), fact_contribution(fact)))
    return fact


@transaction.atomic
def case_fact_mark_repeat(*, case_id: int) -> None:
    """insight said this case repeats an earlier failure of the same customer."""
    fact = case_fact_refresh(case_id=case_id)
    if fact is not None and not fact.repeat:
        CaseFact.objects.filter(pk=fact.pk).update(repeat=True)

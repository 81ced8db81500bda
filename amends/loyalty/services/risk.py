"""A customer's risk of leaving: a 0-100 score from transparent, configurable factors.

Recomputed for one customer whenever something about them changes (a hook), never by a nightly
scan. `risk_compute` is pure arithmetic on `RiskInputs`, so the factors are easy to test and
to show: the customer page lists every factor that added points.
"""

from __future__ import annotations

import contextvars
import functools
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Count, Field, Min, OuterRef, Q, Subquery, Sum
from django.utils import timezone

from amends.core.conf import amends_setting
from amends.core.rows import instance_insert, instance_only
from amends.customers.choices import CustomerTier, LoyaltyStatus
from amends.customers.models import Customer
from amends.customers.selectors import customer_get
from amends.customers.services import customer_loyalty_status_set
from amends.loyalty.choices import LoyaltyEventKind
from amends.loyalty.models import CaseFact, CustomerRisk, LoyaltyEvent

DEFAULT_WEIGHTS: dict[str, int] = {
    "open_case": 10,
    "open_case_cap": 30,
    "repeat_failure": 10,
    "repeat_failure_cap": 20,
    "broken_promise": 15,
    "broken_promise_cap": 30,
    "unresolved_per_day": 1,
    "unresolved_cap": 15,
    "upset": 10,
    "churn_intent": 25,
    "low_survey": 15,
    "contract_ending": 10,
    "special_handling": 5,
}

# A survey answer this low counts against the customer's loyalty.
LOW_CSAT = 2  # of 5
LOW_NPS = 6  # of 10 (a detractor)
LOW_WOULD_USE_AGAIN = 2  # of 5

_refreshing: contextvars.ContextVar[frozenset[int]] = contextvars.ContextVar(
    "loyalty_risk_refreshing", default=frozenset()
)


def risk_weights() -> dict[str, int]:
    return {**DEFAULT_WEIGHTS, **(amends_setting("LOYALTY_RISK_WEIGHTS") or {})}


@dataclass(frozen=True)
class RiskInputs:
    open_cases: int = 0
    earlier_failures: int = 0  # failures in the repeat window before the latest one
    broken_promises: int = 0
    oldest_open_days: int = 0
    upset: bool = False
    churn_intent: bool = False
    low_survey: bool = False
    contract_ending: bool = False
    special_handling: bool = False


@dataclass(frozen=True)
class RiskFactor:
    factor: str
    label: str
    value: int
    points: int


def risk_compute(
    inputs: RiskInputs, weights: dict[str, int] | None = None
) -> tuple[int, list[RiskFactor]]:
    """The score (capped at 100) and every factor that added points, biggest first."""
    w = {**DEFAULT_WEIGHTS, **(weights or {})}

    def capped(count: int, each: str, cap: str) -> int:
        return min(count * w[each], w[cap])

    candidates = [
        RiskFactor(
            "open_cases",
            f"{inputs.open_cases} open case(s)",
            inputs.open_cases,
            capped(inputs.open_cases, "open_case", "open_case_cap"),
        ),
        RiskFactor(
            "repeat_failures",
            f"{inputs.earlier_failures} earlier failure(s) recently",
            inputs.earlier_failures,
            capped(inputs.earlier_failures, "repeat_failure", "repeat_failure_cap"),
        ),
        RiskFactor(
            "broken_promises",
            f"{inputs.broken_promises} broken promise(s)",
            inputs.broken_promises,
            capped(inputs.broken_promises, "broken_promise", "broken_promise_cap"),
        ),
        RiskFactor(
            "time_unresolved",
            f"Oldest open case open {inputs.oldest_open_days} day(s)",
            inputs.oldest_open_days,
            capped(inputs.oldest_open_days, "unresolved_per_day", "unresolved_cap"),
        ),
        RiskFactor("upset", "Upset message", int(inputs.upset), w["upset"] * inputs.upset),
        RiskFactor(
            "churn_intent",
            "Said they may leave",
            int(inputs.churn_intent),
            w["churn_intent"] * inputs.churn_intent,
        ),
        RiskFactor(
            "low_survey",
            "Low survey answer",
            int(inputs.low_survey),
            w["low_survey"] * inputs.low_survey,
        ),
        RiskFactor(
            "contract_ending",
            "Contract ends soon",
            int(inputs.contract_ending),
            w["contract_ending"] * inputs.contract_ending,
        ),
        RiskFactor(
            "special_handling",
            "Special handling",
            int(inputs.special_handling),
            w["special_handling"] * inputs.special_handling,
        ),
    ]
    factors = sorted((f for f in candidates if f.points > 0), key=lambda f: -f.points)
    return min(100, sum(f.points for f in factors)), factors


def _recent(at: datetime | None, *, now: datetime, days: int) -> bool:
    return at is not None and now - timedelta(days=days) <= at <= now + timedelta(minutes=5)


def _fact_aggregates(now: datetime) -> dict[str, Any]:
    since = now - timedelta(days=int(amends_setting("LOYALTY_REPEAT_WINDOW_DAYS", 180)))
    return {
        "open_cases": Count("pk", filter=Q(is_open=True)),
        "oldest_open": Min("opened_at", filter=Q(is_open=True)),
        "recent": Count("pk", filter=Q(opened_at__gte=since)),
        "broken": Sum("promises_broken", filter=Q(opened_at__gte=since)),
        "first": Min("opened_at"),
    }


def facts_aggregate(*, customer_id: int, now: datetime) -> dict[str, Any]:
    """One indexed aggregate over a customer's failures: what the score needs, and their first."""
    return CaseFact.objects.filter(customer_id=customer_id).aggregate(**_fact_aggregates(now))


def _facts_subqueries(now: datetime) -> dict[str, Subquery]:
    """The same aggregates as scalar subqueries of the score row's own read (each an index
    range over the customer's failures), so a refresh that changes nothing is one statement."""
    facts = CaseFact.objects.filter(customer_id=OuterRef("customer_id")).order_by()
    return {
        f"agg_{name}": Subquery(facts.values("customer_id").annotate(v=expr).values("v")[:1])
        for name, expr in _fact_aggregates(now).items()
    }


def risk_inputs_for(
    *, customer: Customer, risk: CustomerRisk, now: datetime, agg: dict[str, Any] | None = None
) -> RiskInputs:
    """Gather a customer's inputs: one aggregate over their facts plus the stored signals."""
    signal_days = int(amends_setting("LOYALTY_SIGNAL_WINDOW_DAYS", 60))
    contract_days = int(amends_setting("LOYALTY_CONTRACT_DAYS", 60))
    if agg is None:
        agg = facts_aggregate(customer_id=customer.pk, now=now)
    oldest: datetime | None = agg["oldest_open"]
    contract_end: date | None = customer.contract_end_date
    today = now.date()
    return RiskInputs(
        open_cases=agg["open_cases"] or 0,
        earlier_failures=max(0, (agg["recent"] or 0) - 1),
        broken_promises=agg["broken"] or 0,
        oldest_open_days=max(0, (now - oldest).days) if oldest else 0,
        upset=_recent(risk.last_upset_at, now=now, days=signal_days),
        churn_intent=_recent(risk.last_churn_intent_at, now=now, days=signal_days),
        low_survey=_recent(risk.last_low_survey_at, now=now, days=signal_days),
        contract_ending=contract_end is not None
        and today <= contract_end <= today + timedelta(days=contract_days),
        special_handling=customer.special_handling,
    )


_NO_FACTS: dict[str, Any] = {
    "open_cases": 0,
    "oldest_open": None,
    "recent": 0,
    "broken": None,
    "first": None,
}


def customer_risk_start(*, customer_id: int, now: datetime | None = None) -> CustomerRisk | None:
    """The first score of a customer created in this transaction: no failures and no signals
    yet, so the score comes from the customer alone. One read of the customer and one INSERT
    (a full `customer_risk_refresh` reads the score row twice, inserts it, reads it back, reads
    the customer again and aggregates facts that cannot exist yet). A score that would move
    the status goes through the full refresh."""
    now = now or timezone.now()
    # Fixed statements (core.rows) for the read and the INSERT: every customer an intake
    # creates comes here, and the ORM's compiling of both cost more than running them.
    customer = instance_only(Customer, customer_id)
    if customer is None:
        return None
    risk = CustomerRisk(customer=customer)
    score, factors = risk_compute(
        risk_inputs_for(customer=customer, risk=risk, now=now, agg=_NO_FACTS), risk_weights()
    )
    if _automatic_status(customer.loyalty_status, score, auto=risk.auto_at_risk) is not None:
        return customer_risk_refresh(customer_id=customer_id, now=now)
    risk.score = score
    risk.breakdown = [f.__dict__ for f in factors]
    risk.value_rank = 2 if customer.tier == CustomerTier.VIP else 1
    risk.computed_at = now
    risk.status = customer.loyalty_status
    instance_insert(risk)
    return risk


def _risk_row(customer_id: int) -> CustomerRisk:
    risk = CustomerRisk.objects.select_for_update().filter(customer_id=customer_id).first()
    if risk is None:
        CustomerRisk.objects.bulk_create(
            [CustomerRisk(customer_id=customer_id)], ignore_conflicts=True
        )
        risk = CustomerRisk.objects.select_for_update().get(customer_id=customer_id)
    return risk


def loyalty_event_record(
    *, customer_id: int | None, kind: str, actor: User | None, data: dict[str, Any]
) -> LoyaltyEvent:
    return LoyaltyEvent.objects.create(
        customer_id=customer_id, kind=kind, actor=actor, data=data, created_at=timezone.now()
    )


def _automatic_status(current: str, score: int, *, auto: bool) -> str | None:
    """Active becomes at risk at a high score; at risk set by the score (never one set by a
    person) becomes active again once the score falls below the lower threshold."""
    at_risk = int(amends_setting("LOYALTY_AT_RISK_SCORE", 50))
    active = int(amends_setting("LOYALTY_ACTIVE_SCORE", 40))
    if current == LoyaltyStatus.ACTIVE and score >= at_risk:
        return LoyaltyStatus.AT_RISK
    if current == LoyaltyStatus.AT_RISK and auto and score < active:
        return LoyaltyStatus.ACTIVE
    return None


# What the floors above feed a customer's score (CustomerRisk's signal columns).
_SIGNAL_FIELDS = (
    "last_upset_at",
    "last_churn_intent_at",
    "last_repeat_failure_at",
    "last_low_survey_at",
    "last_survey_at",
    "last_csat",
    "last_nps",
    "last_would_use_again",
)


@functools.cache
def _risk_defaults(
    vendor: str,
) -> tuple[tuple[str, ...], dict[str, Any], dict[str, Field[Any, Any]]]:
    """A new score row's columns (its customer first), their defaults as `vendor`'s database
    takes them, and the signal fields."""
    fields = [f for f in CustomerRisk._meta.concrete_fields if f.attname != "customer_id"]
    return (
        ("customer_id", *(str(f.column) for f in fields)),
        {str(f.column): f.get_db_prep_save(f.get_default(), connection) for f in fields},
        {f.attname: f for f in fields if f.attname in _SIGNAL_FIELDS},
    )


def customer_risk_signals_store(*, customer_id: int, **signals: Any) -> None:
    """Keep signals (last_upset_at=…) without rescoring: for a customer whose rescore is
    already queued. One statement: the signals updated, or a new row with its defaults and
    the signals for a customer not scored yet (every case opened at intake with an upset or
    churn reading comes here, so not through the ORM, whose compiling of the UPDATE and the
    INSERT cost more than running them)."""
    columns, defaults, signal_fields = _risk_defaults(connection.vendor)
    unknown = set(signals) - set(signal_fields)
    if unknown:
        raise TypeError(f"not a signal: {', '.join(sorted(unknown))}")
    values = dict(defaults)
    for name, value in signals.items():
        values[name] = signal_fields[name].get_db_prep_save(value, connection)
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(CustomerRisk._meta.db_table)} "  # noqa: S608 - names from metadata
        f"({', '.join(map(quote, columns))}) VALUES ({', '.join(['%s'] * len(columns))}) "
        "ON CONFLICT (customer_id) "
        + (
            "DO UPDATE SET "
            + ", ".join(f"{quote(name)} = excluded.{quote(name)}" for name in signals)
            if signals
            else "DO NOTHING"
        )
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [customer_id, *(values[column] for column in columns[1:])])


@transaction.atomic(savepoint=False)
def customer_risk_refresh(
    *, customer_id: int, now: datetime | None = None, **signals: Any
) -> CustomerRisk | None:
    """Recompute one customer's score, store the factors, and move active <-> at risk.

    `signals` updates stored signal fields first (last_upset_at=..., last_csat=..., ...).
    One statement when nothing changed (the score row locked, with its customer and the
    aggregates over the customer's facts as subqueries), two when something did: only the
    changed columns are written, and `computed_at` says when the score or its factors last
    changed. No savepoint of its own: inside a caller's transaction it commits or rolls back
    with it.
    """
    if customer_id in _refreshing.get():
        return None  # our own status move re-entered through customer_changed
    now = now or timezone.now()
    risk = (
        CustomerRisk.objects.select_for_update(of=("self",))
        .select_related("customer")
        .filter(customer_id=customer_id)
        .annotate(**_facts_subqueries(now))
        .first()
    )
    if risk is None:
        try:
            customer_get(customer_id=customer_id)
        except Customer.DoesNotExist:
            return None
        risk = _risk_row(customer_id)
        agg = facts_aggregate(customer_id=customer_id, now=now)
    else:
        agg = {name: getattr(risk, f"agg_{name}") for name in _fact_aggregates(now)}
    customer = risk.customer
    changed = [name for name, value in signals.items() if getattr(risk, name) != value]
    for name in changed:
        setattr(risk, name, signals[name])
    score, factors = risk_compute(
        risk_inputs_for(customer=customer, risk=risk, now=now, agg=agg), risk_weights()
    )
    breakdown = [f.__dict__ for f in factors]
    value_rank = 2 if customer.tier == CustomerTier.VIP else 1
    for name, value in (
        ("score", score),
        ("breakdown", breakdown),
        ("value_rank", value_rank),
        ("first_failure_at", agg["first"]),
    ):
        if getattr(risk, name) != value:
            setattr(risk, name, value)
            changed.append(name)
    if {"score", "breakdown"} & set(changed) or risk.computed_at is None:
        risk.computed_at = now
        changed.append("computed_at")
    status = customer.loyalty_status
    move = _automatic_status(status, score, auto=risk.auto_at_risk)
    if move is not None:
        token = _refreshing.set(_refreshing.get() | {customer_id})
        try:
            customer_loyalty_status_set(customer=customer, status=move, actor=None)
        finally:
            _refreshing.reset(token)
        loyalty_event_record(
            customer_id=customer_id,
            kind=LoyaltyEventKind.STATUS_CHANGED,
            actor=None,
            data={"from": status, "to": move, "reason": f"risk score {score}"},
        )
        status = move
        risk.status_changed_at = now
        risk.auto_at_risk = move == LoyaltyStatus.AT_RISK
        changed += ["status_changed_at", "auto_at_risk"]
    if risk.status != status:
        risk.status = status
        changed.append("status")
    if changed:
        risk.save(update_fields=sorted(set(changed)))
    return risk

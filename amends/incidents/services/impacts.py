"""Affected customers: set-based batches of impacts, evaluated under the incident's policy.

A batch locks the incident's row first, so concurrent batches of one incident serialise: the
"already there" count is exact and the budget cap holds. The unique (incident, customer)
constraint and `ignore_conflicts` are the last line: adding a customer twice changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from amends.cases.selectors import case_visible_to
from amends.cases.services.events import case_event_record
from amends.commitments.services.notifications import NotificationSpec, notifications_create
from amends.core import hooks
from amends.core.exceptions import ApplicationError
from amends.core.rows import db_datetime, db_json, insert_rows
from amends.customers.models import Customer
from amends.customers.services import customer_get_or_create_by_ref
from amends.incidents.choices import IncidentCaseEventKind, IncidentEventKind
from amends.incidents.models import Impact, Incident, RecoveryPolicy
from amends.incidents.rules import Line, budget_apply, evaluate
from amends.incidents.services.counters import incident_counters_add
from amends.incidents.services.events import incident_event_record
from amends.incidents.services.incidents import (
    incident_require_open,
    magnitude_clean,
)
from amends.incidents.services.policies import require_manager

MAX_BATCH = 10_000
MAX_INPUTS = 20
LOOKUP_CHUNK = 900  # stays under SQLite's bound-parameter limit
INPUT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
RESERVED_INPUTS = {"magnitude", "tier"}
# What impacts_add writes per new impact (multi-row INSERT through core.rows); the funnel
# timestamps, case and menu start empty.
IMPACT_COLUMNS = (
    "incident_id",
    "customer_id",
    "policy_id",
    "email",
    "inputs",
    "lines",
    "reserved",
    "cost",
    "over_budget",
    "notified_round",
    "created_at",
    "updated_at",
)


@dataclass(frozen=True)
class AffectedRow:
    """One affected customer as given (API row or CSV line)."""

    external_ref: str
    name: str = ""
    email: str = ""
    magnitude: Decimal | str | None = None
    inputs: dict[str, Any] = field(default_factory=dict)
    line: int | None = None  # the CSV line or list position, for reporting


@dataclass
class AddResult:
    added: int = 0
    already: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    created_customers: int = 0
    over_budget: int = 0

    def merge(self, other: AddResult) -> None:
        self.added += other.added
        self.already += other.already
        self.rejected.extend(other.rejected)
        self.created_customers += other.created_customers
        self.over_budget += other.over_budget


def _reject(row: AffectedRow, index: int, code: str, message: str) -> dict[str, Any]:
    return {
        "row": row.line if row.line is not None else index,
        "external_ref": row.external_ref[:100],
        "code": code,
        "message": message,
    }


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _row_clean(row: AffectedRow, index: int) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """(clean values, None) or (None, a reject)."""
    ref = (row.external_ref or "").strip()
    if not ref or len(ref) > 100 or "\x00" in ref:
        return None, _reject(row, index, "invalid_ref", "A customer reference of 1-100 chars.")
    email = (row.email or "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            return None, _reject(row, index, "invalid_email", f"{email[:100]!r} is no address.")
    name = (row.name or "").strip()
    if "\x00" in name or len(name) > 200:
        return None, _reject(row, index, "invalid_name", "A name of at most 200 characters.")
    magnitude = None
    if row.magnitude is not None and str(row.magnitude).strip() != "":
        try:
            magnitude = magnitude_clean(row.magnitude)
        except ApplicationError as exc:
            return None, _reject(row, index, "invalid_magnitude", exc.message)
    inputs: dict[str, Any] = {}
    if len(row.inputs) > MAX_INPUTS:
        return None, _reject(row, index, "invalid_inputs", f"At most {MAX_INPUTS} inputs.")
    for key, value in row.inputs.items():
        if not INPUT_NAME.match(str(key)) or key in RESERVED_INPUTS:
            return None, _reject(row, index, "invalid_inputs", f"{str(key)[:40]!r} is no input.")
        if not _scalar(value) or (isinstance(value, str) and ("\x00" in value or len(value) > 200)):
            return None, _reject(row, index, "invalid_inputs", f"{key} must be a short value.")
        if isinstance(value, float) and value != value:  # NaN
            return None, _reject(row, index, "invalid_inputs", f"{key} must be a number.")
        inputs[key] = _coerce(value)
    return {
        "ref": ref,
        "email": email,
        "name": name,
        "magnitude": magnitude,
        "inputs": inputs,
        "row": row.line if row.line is not None else index,
    }, {}


def _coerce(value: Any) -> Any:
    """CSV hands every input over as text: "true"/"false" and numbers become what they say."""
    if not isinstance(value, str):
        return value
    low = value.strip().lower()
    if low in ("true", "yes"):
        return True
    if low in ("false", "no"):
        return False
    try:
        number = Decimal(low)
    except ArithmeticError:
        return value.strip()
    if not number.is_finite():
        return value.strip()
    return int(number) if number == number.to_integral_value() else float(number)


def policy_inputs(
    *, incident: Incident, customer_tier: str, magnitude: Decimal | None, inputs: dict[str, Any]
) -> dict[str, Any]:
    """What a policy sees for one customer: their inputs, the magnitude and their tier."""
    value = magnitude if magnitude is not None else incident.magnitude
    return {**inputs, "magnitude": float(value), "tier": customer_tier}


def impact_outcome(
    *, policy: RecoveryPolicy | None, inputs: dict[str, Any], remaining: Decimal | None
) -> tuple[list[Line], Decimal]:
    if policy is None:
        return [], Decimal("0")
    return budget_apply(evaluate(policy.rules, inputs), remaining)


def _lookup(refs: list[str]) -> dict[str, tuple[int, str, str]]:
    found: dict[str, tuple[int, str, str]] = {}
    for start in range(0, len(refs), LOOKUP_CHUNK):
        chunk = refs[start : start + LOOKUP_CHUNK]
        for ref, pk, email, tier in Customer.objects.filter(external_ref__in=chunk).values_list(
            "external_ref", "id", "email", "tier"
        ):
            if ref is not None:
                found[ref] = (pk, email, tier)
    return found


def _existing(incident: Incident, customer_ids: list[int]) -> set[int]:
    there: set[int] = set()
    for start in range(0, len(customer_ids), LOOKUP_CHUNK):
        chunk = customer_ids[start : start + LOOKUP_CHUNK]
        there.update(
            Impact.objects.filter(incident_id=incident.pk, customer_id__in=chunk).values_list(
                "customer_id", flat=True
            )
        )
    return there


def _remaining(incident: Incident, policy: RecoveryPolicy | None) -> Decimal | None:
    if policy is None or policy.budget_cap is None:
        return None
    return max(Decimal("0"), policy.budget_cap - incident.budget_reserved)


def budget_reached_tell(*, incident: Incident, policy: RecoveryPolicy, actor: User | None) -> None:
    """Once per incident: the owner learns that later customers get smaller menus."""
    if incident.budget_reached_at is not None:
        return
    incident.budget_reached_at = timezone.now()
    Incident.objects.filter(pk=incident.pk).update(budget_reached_at=incident.budget_reached_at)
    incident_event_record(
        incident=incident,
        kind=IncidentEventKind.BUDGET_REACHED,
        actor=actor,
        data={"budget_cap": str(policy.budget_cap), "reserved": str(incident.budget_reserved)},
    )
    notifications_create(
        specs=[
            NotificationSpec(
                recipient_id=policy.owner_id,
                kind="incident_budget_reached",
                message=(
                    f"{incident.ref} {incident.title}: the recovery budget of "
                    f"{policy.budget_cap} {policy.currency} is reached; customers added from "
                    "now on get a menu without the options it cannot cover."
                ),
                dedupe_key=f"incident:{incident.pk}:budget_reached",
                url=f"/incidents/{incident.pk}/",
            )
        ]
    )


@transaction.atomic
def impacts_add(
    *,
    incident: Incident,
    rows: list[AffectedRow],
    actor: User,
    create_missing: bool = False,
) -> AddResult:
    """Add a batch (up to 10,000) of affected customers; unknown references are rejected per
    row (or created from the row's name and email with `create_missing`), the rest proceed."""
    require_manager(actor)
    if len(rows) > MAX_BATCH:
        raise ApplicationError(
            f"At most {MAX_BATCH} customers a batch; split the list.",
            code="batch_too_large",
            status=413,
        )
    incident = (
        Incident.objects.select_for_update(of=("self",))
        .select_related("policy")
        .get(pk=incident.pk)
    )
    incident_require_open(incident)
    result = AddResult()
    clean: dict[str, dict[str, Any]] = {}
    for index, row in enumerate(rows):
        values, reject = _row_clean(row, index)
        if values is None:
            result.rejected.append(reject)
        elif values["ref"] in clean:
            result.already += 1  # the same customer twice in one batch
        else:
            clean[values["ref"]] = values
    known = _lookup(list(clean))
    for ref, values in clean.items():
        if ref in known:
            continue
        if create_missing and values["name"]:
            customer = customer_get_or_create_by_ref(
                external_ref=ref, defaults={"name": values["name"], "email": values["email"]}
            )
            known[ref] = (customer.pk, customer.email, customer.tier)
            result.created_customers += 1
        else:
            result.rejected.append(
                {
                    "row": values["row"],
                    "external_ref": ref,
                    "code": "unknown_customer",
                    "message": f"No customer has the reference {ref!r}.",
                }
            )
    present = {ref: v for ref, v in clean.items() if ref in known}
    there = _existing(incident, [known[ref][0] for ref in present])
    policy = incident.policy
    reserved_total = Decimal("0")
    now = db_datetime(timezone.now())
    new_rows: list[tuple[Any, ...]] = []
    # Customers share a handful of input combinations (a flight's distance, its delay): each
    # combination is evaluated once; with no budget cap its whole outcome is reused as is.
    evaluated: dict[tuple[Any, ...], list[Line]] = {}
    outcomes: dict[tuple[Any, ...], tuple[str, Decimal, bool]] = {}
    for ref, values in present.items():
        customer_id, customer_email, tier = known[ref]
        if customer_id in there:
            result.already += 1
            continue
        inputs = policy_inputs(
            incident=incident,
            customer_tier=tier,
            magnitude=values["magnitude"],
            inputs=values["inputs"],
        )
        key = tuple(sorted((name, type(v).__name__, v) for name, v in inputs.items()))
        outcome = outcomes.get(key)
        if outcome is None:
            remaining = _remaining(incident, policy)
            if remaining is not None:
                remaining -= reserved_total
            if key not in evaluated:
                evaluated[key] = [] if policy is None else evaluate(policy.rules, inputs)
            lines, reserved = budget_apply(evaluated[key], remaining)
            outcome = (
                db_json([line.as_dict() for line in lines if line.status != "not_applicable"]),
                reserved,
                any(line.status == "over_budget" for line in lines),
            )
            if remaining is None:
                outcomes[key] = outcome
        lines_json, reserved, over = outcome
        result.over_budget += int(over)
        reserved_total += reserved
        new_rows.append(
            (
                incident.pk,
                customer_id,
                policy.pk if policy else None,
                values["email"] or customer_email,
                db_json(inputs),
                lines_json,
                reserved,
                Decimal("0"),
                over,
                0,
                now,
                now,
            )
        )
        there.add(customer_id)
    inserted = [
        customer_id
        for (customer_id,) in insert_rows(
            model=Impact,
            columns=IMPACT_COLUMNS,
            rows=new_rows,
            skip_conflicts=True,
            returning=("customer_id",),
        )
    ]
    result.added = len(inserted)
    result.already += len(new_rows) - len(inserted)  # added meanwhile (the unique constraint)
    incident_counters_add(
        incident_id=incident.pk,
        affected_count=result.added,
        over_budget_count=result.over_budget,
    )
    if reserved_total:
        incident.budget_reserved += reserved_total
        Incident.objects.filter(pk=incident.pk).update(
            budget_reserved=incident.budget_reserved, updated_at=timezone.now()
        )
    if result.over_budget and policy is not None:
        budget_reached_tell(incident=incident, policy=policy, actor=actor)
    incident_event_record(
        incident=incident,
        kind=IncidentEventKind.AFFECTED_ADDED,
        actor=actor,
        data={
            "added": result.added,
            "already": result.already,
            "rejected": len(result.rejected),
            "created_customers": result.created_customers,
            "reserved": str(reserved_total),
        },
    )
    if inserted:
        hooks.incident_impacted.emit(
            hooks.IncidentImpacted(incident_id=incident.pk, customer_ids=tuple(inserted))
        )
    return result


@dataclass
class LinkResult:
    linked: int = 0
    already: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)


@transaction.atomic
def incident_link_cases(*, incident: Incident, case_ids: Iterable[int], actor: User) -> LinkResult:
    """Link customers' existing complaints: their impact points at their case (no new case),
    and they count as having complained."""
    require_manager(actor)
    incident = (
        Incident.objects.select_for_update(of=("self",))
        .select_related("policy")
        .get(pk=incident.pk)
    )
    incident_require_open(incident)
    ids = list(dict.fromkeys(case_ids))[:MAX_BATCH]
    cases = {
        c.pk: c for c in case_visible_to(user=actor).filter(pk__in=ids).select_related("customer")
    }
    result = LinkResult()
    now = timezone.now()
    impacted: list[int] = []
    for case_id in ids:
        case = cases.get(case_id)
        if case is None:
            result.rejected.append(
                {"case_id": case_id, "code": "unknown_case", "message": "No such case."}
            )
            continue
        impact = Impact.objects.filter(
            incident_id=incident.pk, customer_id=case.customer_id
        ).first()
        if impact is not None and impact.case_id is not None:
            result.already += 1
            continue
        if impact is None:
            inputs = policy_inputs(
                incident=incident, customer_tier=case.customer.tier, magnitude=None, inputs={}
            )
            lines, reserved = impact_outcome(
                policy=incident.policy,
                inputs=inputs,
                remaining=_remaining(incident, incident.policy),
            )
            impact = Impact.objects.create(
                incident=incident,
                customer_id=case.customer_id,
                policy=incident.policy,
                email=case.customer.email,
                inputs=inputs,
                lines=[line.as_dict() for line in lines if line.status != "not_applicable"],
                reserved=reserved,
                over_budget=any(line.status == "over_budget" for line in lines),
                case=case,
                complained_at=case.created_at,
            )
            incident.budget_reserved += reserved
            impacted.append(case.customer_id)
            incident_counters_add(
                incident_id=incident.pk,
                affected_count=1,
                complained_count=1,
                over_budget_count=int(impact.over_budget),
            )
        else:
            if impact.complained_at is None:
                incident_counters_add(incident_id=incident.pk, complained_count=1)
            impact.case = case
            impact.complained_at = impact.complained_at or case.created_at
            impact.save(update_fields=["case", "complained_at", "updated_at"])
        case_event_record(
            case=case,
            kind=IncidentCaseEventKind.LINKED,
            actor=actor,
            data={"incident": incident.ref, "title": incident.title},
        )
        result.linked += 1
    Incident.objects.filter(pk=incident.pk).update(
        budget_reserved=incident.budget_reserved, updated_at=now
    )
    incident_event_record(
        incident=incident,
        kind=IncidentEventKind.CASES_LINKED,
        actor=actor,
        data={"linked": result.linked, "already": result.already, "rejected": len(result.rejected)},
    )
    if impacted:
        hooks.incident_impacted.emit(
            hooks.IncidentImpacted(incident_id=incident.pk, customer_ids=tuple(impacted))
        )
    return result


def incident_dry_run(
    *, incident: Incident, tier: str, magnitude: Decimal | None, inputs: dict[str, Any]
) -> tuple[RecoveryPolicy | None, list[Line]]:
    """What a customer with these inputs would get under the incident's policy, and why
    (ignoring the budget); writes nothing."""
    row, reject = _row_clean(
        AffectedRow(external_ref="dry-run", magnitude=magnitude, inputs=inputs), 0
    )
    if row is None:
        raise ApplicationError(reject["message"], code=reject["code"], status=422)
    values = policy_inputs(
        incident=incident, customer_tier=tier, magnitude=row["magnitude"], inputs=row["inputs"]
    )
    policy = incident.policy
    return policy, ([] if policy is None else evaluate(policy.rules, values))

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, NamedTuple

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from amends.core import hooks
from amends.core.bulk import copy_rows_with_ids, insert_returning_ids
from amends.core.exceptions import ApplicationError, PermissionDeniedError
from amends.core.rows import db_datetime_text, insert_rows, select_in
from amends.customers.choices import CustomerTier, LoyaltyStatus
from amends.customers.models import Customer, CustomerEvent


def _validated(customer: Customer) -> Customer:
    try:
        customer.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        raise ApplicationError(
            "The customer details are not valid.",
            code="invalid_customer",
            status=422,
            detail=exc.message_dict,
        ) from exc
    if customer.special_handling and not customer.special_handling_reason.strip():
        raise ApplicationError(
            "Special handling needs a reason.",
            code="special_handling_reason_required",
            status=422,
            detail={"special_handling_reason": ["Required when special handling is on."]},
        )
    return customer


def _announce(customer: Customer, *, fields: tuple[str, ...], actor: User | None) -> None:
    hooks.customer_changed.emit(
        hooks.CustomerChanged(
            customer_id=customer.pk,
            fields=fields,
            actor_id=actor.pk if actor is not None else None,
        )
    )


def customer_create(
    *,
    name: str,
    email: str = "",
    phone: str = "",
    external_ref: str | None = None,
    tier: str = CustomerTier.STANDARD,
    special_handling: bool = False,
    special_handling_reason: str = "",
    contract_end_date: date | None = None,
    loyalty_status: str = LoyaltyStatus.ACTIVE,
    actor: User | None = None,
) -> Customer:
    customer = _validated(
        Customer(
            name=name.strip(),
            email=email.strip(),
            phone=phone.strip(),
            external_ref=(external_ref or "").strip() or None,
            tier=tier,
            special_handling=special_handling,
            special_handling_reason=special_handling_reason.strip(),
            contract_end_date=contract_end_date,
            loyalty_status=loyalty_status,
        )
    )
    if (
        customer.external_ref
        and Customer.objects.filter(external_ref=customer.external_ref).exists()
    ):
        raise ApplicationError(
            f"A customer with external reference {customer.external_ref!r} already exists.",
            code="customer_exists",
            status=409,
        )
    if not customer.external_ref:
        # Nothing unique to race on, and nothing written before the checks above: inside a
        # caller's transaction no savepoint of its own (two statements a customer). The row
        # and the subscribers' reactions (loyalty's first score) commit together.
        with transaction.atomic(savepoint=False):
            customer.save()
            _announce(customer, fields=("created",), actor=actor)
        return customer
    with transaction.atomic():
        try:
            with transaction.atomic():
                customer.save()
        except IntegrityError as exc:  # lost a race on external_ref
            raise ApplicationError(
                "A customer with this external reference already exists.",
                code="customer_exists",
                status=409,
            ) from exc
        _announce(customer, fields=("created",), actor=actor)
    return customer


def customer_get_or_create_by_ref(*, external_ref: str, defaults: dict[str, Any]) -> Customer:
    """Intake path: find the customer by their reference in our systems or create them.

    Idempotent under concurrency: a duplicate insert falls back to the existing row.
    """
    external_ref = external_ref.strip()
    if not external_ref:
        return customer_create(**defaults)
    existing = Customer.objects.filter(external_ref=external_ref).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return customer_create(external_ref=external_ref, **defaults)
    except ApplicationError as exc:
        if exc.code != "customer_exists":
            raise
        return Customer.objects.get(external_ref=external_ref)


UPDATABLE_FIELDS = {
    "name",
    "email",
    "phone",
    "tier",
    "special_handling",
    "special_handling_reason",
    "contract_end_date",
    "loyalty_status",
}


@transaction.atomic
def customer_update(*, customer: Customer, actor: User | None, **changes: Any) -> Customer:
    unknown = set(changes) - UPDATABLE_FIELDS
    if unknown:
        raise ApplicationError(
            f"Cannot change {', '.join(sorted(unknown))}.", code="invalid_field", status=422
        )
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    for field, value in changes.items():
        setattr(customer, field, value.strip() if isinstance(value, str) else value)
    _validated(customer)
    customer.save()
    _announce(customer, fields=tuple(sorted(changes)), actor=actor)
    return customer


# Moves a customer's loyalty status may make; the same status again is refused too.
LOYALTY_MOVES: dict[str, set[str]] = {
    LoyaltyStatus.ACTIVE: {LoyaltyStatus.AT_RISK, LoyaltyStatus.LOST},
    LoyaltyStatus.AT_RISK: {LoyaltyStatus.ACTIVE, LoyaltyStatus.LOST},
    LoyaltyStatus.LOST: {LoyaltyStatus.WON_BACK},
    LoyaltyStatus.WON_BACK: {LoyaltyStatus.ACTIVE, LoyaltyStatus.AT_RISK, LoyaltyStatus.LOST},
}


@transaction.atomic
def customer_loyalty_status_set(*, customer: Customer, status: str, actor: User | None) -> Customer:
    """Move a customer between active, at risk, lost and won back (a lost customer can only be
    won back). The loyalty app records why, and who did it."""
    if status not in LoyaltyStatus.values:
        raise ApplicationError(
            f"Unknown loyalty status {status!r}.",
            code="invalid_loyalty_status",
            status=422,
            detail={"status": [f"Choose one of {', '.join(LoyaltyStatus.values)}."]},
        )
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if status not in LOYALTY_MOVES.get(customer.loyalty_status, set()):
        raise ApplicationError(
            f"A customer who is {customer.get_loyalty_status_display().lower()} cannot become "
            f"{LoyaltyStatus(status).label.lower()}.",
            code="illegal_loyalty_move",
            status=409,
        )
    customer.loyalty_status = status
    customer.save(update_fields=["loyalty_status", "updated_at"])
    hooks.customer_changed.emit(
        hooks.CustomerChanged(
            customer_id=customer.pk,
            fields=("loyalty_status",),
            actor_id=actor.pk if actor is not None else None,
        )
    )
    return customer


@transaction.atomic
def customers_get_or_create_bulk(
    *, defaults_by_ref: dict[str, dict[str, Any]]
) -> dict[str, Customer]:
    """Imports: the customer of each external reference, creating the missing ones with their
    defaults (name, email, phone) in one INSERT. Idempotent under concurrency."""
    refs = [ref.strip() for ref in defaults_by_ref if ref.strip()]
    found = {c.external_ref: c for c in Customer.objects.filter(external_ref__in=refs)}
    missing = []
    for ref in refs:
        if ref in found:
            continue
        values = defaults_by_ref[ref]
        customer = Customer(
            external_ref=ref,
            name=str(values.get("name") or ref).strip()[:200],
            email=str(values.get("email") or "").strip()[:254],
            phone=str(values.get("phone") or "").strip()[:40],
        )
        missing.append(customer)
    if missing:
        now = timezone.now()
        for customer in missing:
            customer.created_at = customer.updated_at = now
        try:
            with transaction.atomic():
                insert_returning_ids(Customer, missing)
            found.update({c.external_ref: c for c in missing if c.external_ref})
            return {ref: found[ref] for ref in refs if ref in found}
        except IntegrityError:  # another import created some of them a moment ago
            Customer.objects.bulk_create(missing, ignore_conflicts=True)
        found.update(
            {
                c.external_ref: c
                for c in Customer.objects.filter(external_ref__in=[c.external_ref for c in missing])
            }
        )
    return {ref: found[ref] for ref in refs if ref in found}


class CustomerKey(NamedTuple):
    """What set-based intake needs of a customer: the id, and what picks a playbook or route."""

    id: int
    tier: str
    special_handling: bool


def customer_keys_get_or_create(
    *, defaults_by_ref: Mapping[str, Mapping[str, Any]]
) -> dict[str, CustomerKey]:
    """Imports: the customer of each external reference, the missing ones created with their
    defaults (name, email, phone) — one SELECT and one multi-row INSERT for the whole chunk, no
    model instance per row. Idempotent under concurrency (a reference another import created
    a moment ago is read back)."""
    refs = list(dict.fromkeys(ref.strip() for ref in defaults_by_ref if ref.strip()))
    found: dict[str, CustomerKey] = {}

    def read(wanted: list[str]) -> None:
        for pk, ref, tier, special in select_in(
            model=Customer,
            columns=["id", "external_ref", "tier", "special_handling"],
            key="external_ref",
            values=wanted,
        ):
            found[ref] = CustomerKey(pk, tier, bool(special))

    read(refs)
    missing = [ref for ref in refs if ref not in found]
    if missing:
        now = db_datetime_text(timezone.now())
        rows = []
        for ref in missing:
            values = defaults_by_ref[ref]
            rows.append(
                (
                    ref,
                    str(values.get("name") or ref).strip()[:200],
                    str(values.get("email") or "").strip()[:254],
                    str(values.get("phone") or "").strip()[:40],
                    CustomerTier.STANDARD,
                    False,
                    "",
                    LoyaltyStatus.ACTIVE,
                    now,
                    now,
                )
            )
        columns = [
            "external_ref",
            "name",
            "email",
            "phone",
            "tier",
            "special_handling",
            "special_handling_reason",
            "loyalty_status",
            "created_at",
            "updated_at",
        ]
        if connection.vendor == "postgresql":
            # COPY (rows formatted in C, not escaped value by value into arrays in Python); a
            # reference another import created meanwhile fails it, and the INSERT below,
            # which skips conflicts, takes over.
            try:
                with transaction.atomic():
                    ids = copy_rows_with_ids(Customer._meta.db_table, columns, rows)
            except IntegrityError:
                pass
            else:
                for pk, ref in zip(ids, missing, strict=True):
                    found[ref] = CustomerKey(pk, CustomerTier.STANDARD, False)
                return found
        inserted = insert_rows(
            model=Customer,
            columns=columns,
            rows=rows,
            skip_conflicts=True,
            returning=["id", "external_ref"],
        )
        for pk, ref in inserted:
            found[ref] = CustomerKey(pk, CustomerTier.STANDARD, False)
        raced = [ref for ref in missing if ref not in found]
        if raced:
            read(raced)
    return found


# Roles that may change how a customer is handled (the role codes of accounts.choices.Role;
# `accounts` is a sibling floor, so the profile is read through the user's `staff` relation).
HANDLING_ROLES = frozenset({"supervisor", "manager", "admin"})


@transaction.atomic
def customer_handling_set(
    *,
    customer: Customer,
    actor: User,
    tier: str,
    special_handling: bool,
    special_handling_reason: str = "",
) -> Customer:
    """Change a customer's tier and special-handling flag (supervisors and above); each change
    is kept in the customer's history with who made it."""
    staff = getattr(actor, "staff", None)
    if not (actor.is_superuser or (staff is not None and staff.role in HANDLING_ROLES)):
        raise PermissionDeniedError(
            "Only a supervisor, a manager or an admin can change a customer's tier or special "
            "handling."
        )
    if tier not in CustomerTier.values:
        raise ApplicationError(
            f"Unknown tier {tier!r}.",
            code="invalid_customer",
            status=422,
            detail={"tier": [f"Choose one of {', '.join(CustomerTier.values)}."]},
        )
    reason = special_handling_reason.strip() if special_handling else ""
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    before = {
        "tier": customer.tier,
        "special_handling": customer.special_handling,
        "special_handling_reason": customer.special_handling_reason,
    }
    customer.tier = tier
    customer.special_handling = special_handling
    customer.special_handling_reason = reason
    after = {
        "tier": customer.tier,
        "special_handling": customer.special_handling,
        "special_handling_reason": customer.special_handling_reason,
    }
    diff = {k: {"from": before[k], "to": v} for k, v in after.items() if before[k] != v}
    if not diff:
        return customer
    _validated(customer)
    customer.save(update_fields=[*diff, "updated_at"])
    CustomerEvent.objects.create(
        customer=customer, actor=actor, data=diff, created_at=timezone.now()
    )
    _announce(customer, fields=tuple(sorted(diff)), actor=actor)
    return customer

"""Loyalty status moves made by people: lost (by hand or from a cancellations file), won back."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from amends.core.exceptions import ApplicationError
from amends.customers.choices import LoyaltyStatus
from amends.customers.models import Customer
from amends.customers.selectors import customers_by_external_ref
from amends.customers.services import customer_loyalty_status_set
from amends.loyalty.choices import LoyaltyEventKind
from amends.loyalty.models import CustomerRisk
from amends.loyalty.services.facts import local_day, organisation_zone
from amends.loyalty.services.risk import _risk_row, customer_risk_refresh, loyalty_event_record

MAX_REASON = 200
MAX_CSV_ROWS = 100_000
MAX_CSV_BYTES = 20 * 1024 * 1024


@transaction.atomic
def loyalty_status_change(
    *,
    customer: Customer,
    status: str,
    reason: str,
    actor: User | None,
    at: datetime | None = None,
) -> CustomerRisk:
    """Move a customer to `status` and record who did it and why (a reason is required)."""
    reason = " ".join(reason.split())
    if not reason:
        raise ApplicationError(
            "Say why the status changes.",
            code="reason_required",
            status=422,
            detail={"reason": ["Required."]},
        )
    if len(reason) > MAX_REASON or "\x00" in reason:
        raise ApplicationError(
            f"The reason must be at most {MAX_REASON} characters of text.",
            code="invalid_reason",
            status=422,
            detail={"reason": [f"At most {MAX_REASON} characters."]},
        )
    now = timezone.now()
    before = customer.loyalty_status
    customer = customer_loyalty_status_set(customer=customer, status=status, actor=actor)
    loyalty_event_record(
        customer_id=customer.pk,
        kind=LoyaltyEventKind.STATUS_CHANGED,
        actor=actor,
        data={"from": before, "to": status, "reason": reason},
    )
    risk = _risk_row(customer.pk)
    risk.status = status
    risk.status_changed_at = now
    if status == LoyaltyStatus.LOST:
        risk.lost_at = at or now
        risk.lost_reason = reason
    risk.save()
    return customer_risk_refresh(customer_id=customer.pk, now=now) or risk


@dataclass
class CancellationsResult:
    marked: int = 0
    already_lost: int = 0
    errors: list[str] = field(default_factory=list)


def _parse_date(value: str, line: int, errors: list[str]) -> date | None:
    value = value.strip()
    if not value:
        return None
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        errors.append(f"line {line}: cancelled_on {value[:20]!r} is not a YYYY-MM-DD date")
        return None
    if parsed > local_day(timezone.now()):
        errors.append(f"line {line}: cancelled_on {value} is in the future")
        return None
    return parsed


@transaction.atomic
def cancellations_import(*, data: bytes, actor: User | None) -> CancellationsResult:
    """Mark the customers in a cancellations CSV as lost, all or nothing.

    Columns: `external_ref` (required), `reason` (optional, default "Cancelled"),
    `cancelled_on` (optional, YYYY-MM-DD). Any unknown reference or bad row rejects the file.
    """
    if len(data) > MAX_CSV_BYTES:
        raise ApplicationError("The file is larger than 20 MB.", code="file_too_large", status=413)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ApplicationError(
            "The file is not UTF-8 text.", code="invalid_csv", status=422
        ) from exc
    if "\x00" in text:
        raise ApplicationError("The file contains NUL bytes.", code="invalid_csv", status=422)
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "external_ref" not in [f.strip() for f in reader.fieldnames]:
        raise ApplicationError(
            "The file needs a header row with an external_ref column.",
            code="invalid_csv",
            status=422,
        )
    rows: list[tuple[int, str, str, date | None]] = []
    errors: list[str] = []
    try:
        for line, raw in enumerate(reader, start=2):
            if len(rows) >= MAX_CSV_ROWS:
                raise ApplicationError(
                    f"At most {MAX_CSV_ROWS} rows per file.", code="too_many_rows", status=422
                )
            row = {(k or "").strip(): (v or "") for k, v in raw.items() if isinstance(v, str)}
            ref = row.get("external_ref", "").strip()
            if not ref:
                errors.append(f"line {line}: external_ref is empty")
                continue
            reason = " ".join(row.get("reason", "").split())[:MAX_REASON] or "Cancelled"
            rows.append((line, ref, reason, _parse_date(row.get("cancelled_on", ""), line, errors)))
    except csv.Error as exc:
        raise ApplicationError(
            f"The file is not valid CSV: {exc}.", code="invalid_csv", status=422
        ) from exc
    found = customers_by_external_ref(refs=(ref for _, ref, _, _ in rows))
    errors += [f"line {line}: no customer {ref!r}" for line, ref, _, _ in rows if ref not in found]
    if errors:
        raise ApplicationError(
            f"{len(errors)} row(s) cannot be used; nothing was changed.",
            code="invalid_cancellations",
            status=422,
            detail={"rows": errors[:100]},
        )
    if not rows:
        raise ApplicationError("The file has no rows.", code="empty_file", status=422)
    result = CancellationsResult()
    seen: set[str] = set()
    zone = organisation_zone()
    for _, ref, reason, cancelled_on in rows:
        customer = found[ref]
        if ref in seen or customer.loyalty_status == LoyaltyStatus.LOST:
            result.already_lost += 1
            continue
        seen.add(ref)
        # noon of that organisation day
        at = datetime.combine(cancelled_on, time(12), tzinfo=zone) if cancelled_on else None
        loyalty_status_change(
            customer=customer,
            status=LoyaltyStatus.LOST,
            reason=reason,
            actor=actor,
            at=at,
        )
        result.marked += 1
    return result

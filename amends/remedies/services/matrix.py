"""Configuring the authority matrix (CLI and API; admin saves are audited the same way)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from amends.accounts.choices import Role
from amends.core.exceptions import ApplicationError
from amends.remedies.models import AuthorityChange, AuthorityRule, RemedyKind


def _money(value: Decimal | str | None, field: str) -> Decimal | None:
    if value is None or str(value).strip() == "":
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ApplicationError(
            f"{field} must be a number.", code="invalid_rule", status=422, detail={field: ["NaN"]}
        ) from None
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise ApplicationError(
            f"{field} must be more than zero, with at most two decimals.",
            code="invalid_rule",
            status=422,
            detail={field: ["Must be > 0 with at most two decimals."]},
        )
    return amount


def authority_change_record(
    *, rule: AuthorityRule, actor: User | None, source: str, deleted: bool = False
) -> AuthorityChange:
    data: dict[str, Any] = {
        "rule_id": rule.pk,
        "role": rule.role,
        "user": rule.user.username if rule.user_id and rule.user else None,
        "kind": rule.kind.code,
        "allowed": rule.allowed,
        "max_per_remedy": None if rule.max_per_remedy is None else str(rule.max_per_remedy),
        "max_per_case": None if rule.max_per_case is None else str(rule.max_per_case),
        "max_per_customer": None if rule.max_per_customer is None else str(rule.max_per_customer),
        "period_days": rule.period_days,
        "deleted": deleted,
    }
    return AuthorityChange.objects.create(actor=actor, source=source, data=data)


@transaction.atomic
def authority_rule_set(
    *,
    kind: str,
    actor: User | None,
    role: str | None = None,
    user: User | None = None,
    allowed: bool = True,
    max_per_remedy: Decimal | str | None = None,
    max_per_case: Decimal | str | None = None,
    max_per_customer: Decimal | str | None = None,
    period_days: int | None = None,
    source: str = "cli",
) -> AuthorityRule:
    """Create or replace the rule for (role, kind) or, when `user` is given, (person, kind)."""
    kind_row = RemedyKind.objects.filter(code=kind).first()
    if kind_row is None:
        raise ApplicationError(
            f"Unknown remedy kind {kind!r}.",
            code="unknown_kind",
            status=422,
            detail={"kind": [kind]},
        )
    if user is None and role not in Role.values:
        raise ApplicationError(
            f"Unknown role {role!r}; choose one of {', '.join(Role.values)}.",
            code="invalid_role",
            status=422,
        )
    limits = {
        "max_per_remedy": _money(max_per_remedy, "max_per_remedy"),
        "max_per_case": _money(max_per_case, "max_per_case"),
        "max_per_customer": _money(max_per_customer, "max_per_customer"),
    }
    if (limits["max_per_customer"] is None) != (period_days is None):
        raise ApplicationError(
            "A per-customer maximum needs a period in days, and a period needs that maximum.",
            code="invalid_rule",
            status=422,
            detail={"period_days": ["Give it together with max_per_customer."]},
        )
    if period_days is not None and period_days <= 0:
        raise ApplicationError(
            "The period must be at least one day.",
            code="invalid_rule",
            status=422,
            detail={"period_days": ["Must be > 0."]},
        )
    if not allowed:
        limits = dict.fromkeys(limits)
        period_days = None
    lookup: dict[str, Any] = {"kind": kind_row}
    if user is not None:
        lookup.update(user=user, role="")
    else:
        lookup.update(user=None, role=role)
    rule, _ = AuthorityRule.objects.update_or_create(
        **lookup, defaults={"allowed": allowed, "period_days": period_days, **limits}
    )
    authority_change_record(rule=rule, actor=actor, source=source)
    return rule

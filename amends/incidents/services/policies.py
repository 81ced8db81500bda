"""Recovery policies: versioned rule sets per incident kind, checked before they are saved."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from amends.accounts.choices import ROLE_RANK, Role
from amends.accounts.selectors import staff_profile_of
from amends.core.exceptions import ApplicationError, PermissionDeniedError
from amends.incidents.models import IncidentKind, RecoveryPolicy
from amends.incidents.rules import RuleError, rules_check
from amends.remedies.authority import limits_for
from amends.remedies.choices import CURRENCIES
from amends.remedies.models import RemedyKind


def staff_may_manage(*, user: User) -> bool:
    """Supervisors, managers and admins declare incidents and set recovery policies."""
    return ROLE_RANK[staff_profile_of(user=user).role] >= ROLE_RANK[Role.SUPERVISOR]


def require_manager(actor: User) -> None:
    if not staff_may_manage(user=actor):
        raise PermissionDeniedError(
            "Only supervisors, managers and admins manage incidents and recovery policies."
        )


def _invalid(message: str, field: str, code: str = "invalid_policy") -> ApplicationError:
    return ApplicationError(message, code=code, status=422, detail={field: [message]})


def _amounts_by_remedy(rules: list[dict[str, Any]]) -> dict[str, Decimal | None]:
    """The largest amount each remedy kind can reach under these rules (None: no amount)."""
    most: dict[str, Decimal | None] = {}
    for rule in rules:
        amount = None if rule["amount"] is None else Decimal(rule["amount"])
        most[rule["remedy"]] = _max(most.get(rule["remedy"]), amount)
        for alt in rule.get("alternatives", []):
            if "factor" in alt and amount is not None:
                value: Decimal | None = amount * Decimal(str(alt["factor"]))
            else:
                value = None if alt.get("amount") in (None, "") else Decimal(str(alt["amount"]))
            most[alt["remedy"]] = _max(most.get(alt["remedy"]), value)
    return most


def _max(a: Decimal | None, b: Decimal | None) -> Decimal | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


def policy_rules_clean(*, rules: Any, owner: User) -> list[dict[str, Any]]:
    """Shape, conflicts, known remedy kinds and the owner's authority: all named on refusal."""
    try:
        clean = rules_check(rules)
    except RuleError as exc:
        code = "policy_conflict" if any("overlap" in p for p in exc.problems) else "invalid_policy"
        raise ApplicationError(
            "The policy's rules are refused: " + "; ".join(exc.problems),
            code=code,
            status=422,
            detail={"rules": exc.problems},
        ) from exc
    problems: list[str] = []
    amounts = _amounts_by_remedy(clean)
    kinds = {k.code: k for k in RemedyKind.objects.filter(code__in=amounts, active=True)}
    for code, most in sorted(amounts.items()):
        kind = kinds.get(code)
        if kind is None:
            problems.append(f"Unknown remedy kind {code!r}.")
            continue
        if kind.monetary and most is None:
            problems.append(f"{kind.name} needs an amount in every rule that gives it.")
        if not kind.monetary and most is not None:
            problems.append(f"{kind.name} carries no amount; remove it from the rules.")
        limits = limits_for(user=owner, kind=kind)
        if not limits.allowed:
            problems.append(f"{owner.username} may not grant {kind.name} (authority matrix).")
        elif (
            most is not None and limits.max_per_remedy is not None and most > limits.max_per_remedy
        ):
            problems.append(
                f"{owner.username} may grant {kind.name} up to {limits.max_per_remedy}, "
                f"but the rules reach {most.quantize(Decimal('0.01'))}."
            )
    if problems:
        raise ApplicationError(
            "The policy's rules are refused: " + "; ".join(problems),
            code="invalid_policy",
            status=422,
            detail={"rules": problems},
        )
    return clean


def _owner_clean(owner: User) -> User:
    if not owner.is_active:
        raise _invalid(f"{owner.username} is not active.", "owner")
    staff_profile_of(user=owner)
    return owner


def _currency_clean(currency: str) -> str:
    currency = (currency or "").strip().upper()
    if currency not in CURRENCIES:
        raise _invalid(f"Unknown currency {currency!r}.", "currency")
    return currency


def _cap_clean(cap: Decimal | None) -> Decimal | None:
    if cap is None:
        return None
    if not cap.is_finite() or cap <= 0 or cap > Decimal("9999999999.99"):
        raise _invalid("The budget cap must be a positive amount.", "budget_cap")
    return cap.quantize(Decimal("0.01"))


@transaction.atomic
def policy_create(
    *,
    kind: IncidentKind,
    name: str,
    rules: Any,
    owner: User,
    actor: User,
    currency: str = "EUR",
    budget_cap: Decimal | None = None,
    note: str = "",
) -> RecoveryPolicy:
    """A new policy for a kind, or the next version of its active one (which it replaces)."""
    require_manager(actor)
    name = name.strip()
    if not name or len(name) > 200:
        raise _invalid("A policy needs a name of at most 200 characters.", "name")
    owner = _owner_clean(owner)
    clean = policy_rules_clean(rules=rules, owner=owner)
    # Lock the kind so two new versions of one policy cannot take the same number.
    IncidentKind.objects.select_for_update().get(pk=kind.pk)
    last = RecoveryPolicy.objects.filter(kind=kind).order_by("-version").first()
    RecoveryPolicy.objects.filter(kind=kind, active=True).update(active=False)
    return RecoveryPolicy.objects.create(
        kind=kind,
        name=name,
        version=(last.version + 1) if last else 1,
        active=True,
        owner=owner,
        currency=_currency_clean(currency),
        budget_cap=_cap_clean(budget_cap),
        rules=clean,
        note=note.strip()[:5000],
        created_by=actor,
    )


@transaction.atomic
def policy_deactivate(*, policy: RecoveryPolicy, actor: User) -> RecoveryPolicy:
    """Retire a policy: incidents declared later get no automatic remedies for its kind."""
    require_manager(actor)
    RecoveryPolicy.objects.filter(pk=policy.pk).update(active=False)
    policy.refresh_from_db()
    return policy

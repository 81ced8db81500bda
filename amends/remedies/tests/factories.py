from __future__ import annotations

import importlib
from decimal import Decimal
from typing import Any

import factory
from django.contrib.auth.models import User

from amends.cases.models import Case
from amends.core.testing import ModelFactory
from amends.remedies.models import AuthorityRule, CannotDoItem, Remedy, RemedyKind

SEEDED = importlib.import_module("amends.remedies.migrations.0002_seed_remedy_kinds").KINDS


def kinds_seed() -> None:
    """Re-create the seeded kinds: transactional tests flush what the data migration wrote."""
    for position, (code, name, monetary) in enumerate(SEEDED):
        RemedyKind.objects.get_or_create(
            code=code, defaults={"name": name, "monetary": monetary, "position": position}
        )


def kind(code: str) -> RemedyKind:
    """One of the seeded kinds (the data migration creates them)."""
    if not RemedyKind.objects.filter(code=code).exists():
        kinds_seed()
    return RemedyKind.objects.get(code=code)


class RemedyKindFactory(ModelFactory[RemedyKind]):
    class Meta:
        model = RemedyKind
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"kind_{n}")
    name = factory.LazyAttribute(lambda k: k.code.replace("_", " ").title())
    monetary = True


class AuthorityRuleFactory(ModelFactory[AuthorityRule]):
    """A role rule by default: `AuthorityRuleFactory(role="agent", kind=kind("refund"), ...)`."""

    class Meta:
        model = AuthorityRule

    role = "agent"
    kind = factory.LazyFunction(lambda: kind("refund"))
    allowed = True


class CannotDoItemFactory(ModelFactory[CannotDoItem]):
    class Meta:
        model = CannotDoItem

    role = "agent"
    text = factory.Sequence(lambda n: f"Waive fee {n}")


def remedy_make(
    *,
    case: Case,
    amount: str | None = "10.00",
    status: str = "granted",
    code: str = "refund",
    currency: str = "USD",
    proposed_by: User | None = None,
    **extra: Any,
) -> Remedy:
    """A remedy row written directly (history for limit arithmetic), bypassing the rules."""
    return Remedy.objects.create(
        case=case,
        customer_id=case.customer_id,
        kind=kind(code),
        amount=None if amount is None else Decimal(amount),
        currency=currency if amount is not None else "",
        status=status,
        proposed_by=proposed_by,
        **extra,
    )

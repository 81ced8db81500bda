from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import factory
from django.contrib.auth.models import User
from django.utils import timezone

from amends.accounts.choices import Role
from amends.core.testing import ModelFactory
from amends.customers.models import Customer
from amends.incidents.eu261 import EU261_REMEDY_KINDS, eu261_rules
from amends.incidents.models import Incident, IncidentKind, RecoveryPolicy
from amends.remedies.models import AuthorityRule, RemedyKind


def incident_kind(code: str = "flight_delay") -> IncidentKind:
    """A seeded kind (transactional tests flush the data migration's rows: re-create)."""
    kind, _ = IncidentKind.objects.get_or_create(
        code=code, defaults={"name": code.replace("_", " ").capitalize()}
    )
    return kind


def eu261_kinds_and_authority(*, role: str = Role.MANAGER) -> None:
    """The remedy kinds the EU261 rules use, and authority for `role` to grant them."""
    for position, (code, name, monetary) in enumerate(EU261_REMEDY_KINDS, start=50):
        kind, _ = RemedyKind.objects.get_or_create(
            code=code, defaults={"name": name, "monetary": monetary, "position": position}
        )
        AuthorityRule.objects.get_or_create(
            role=role,
            kind=kind,
            user=None,
            defaults={"max_per_remedy": Decimal("1000.00") if monetary else None},
        )


def eu261_policy(
    *, owner: User, cancellation: bool = False, budget_cap: Decimal | None = None
) -> RecoveryPolicy:
    eu261_kinds_and_authority()
    kind = incident_kind("cancellation" if cancellation else "flight_delay")
    last = RecoveryPolicy.objects.filter(kind=kind).order_by("-version").first()
    RecoveryPolicy.objects.filter(kind=kind).update(active=False)
    return RecoveryPolicy.objects.create(
        kind=kind,
        version=last.version + 1 if last else 1,
        name="EU 261/2004",
        owner=owner,
        currency="EUR",
        budget_cap=budget_cap,
        rules=_clean(eu261_rules(cancellation=cancellation)),
    )


def _clean(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from amends.incidents.rules import rules_check

    return rules_check(rules)


class IncidentFactory(ModelFactory[Incident]):
    class Meta:
        model = Incident

    title = factory.Sequence(lambda n: f"Flight AB{100 + n} delayed")
    kind = factory.LazyFunction(incident_kind)
    magnitude = Decimal("200")
    started_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=5))
    severity = 2
    public_description = "Flight AB123 from Lisbon to Paris arrived 3 hours 20 minutes late."


def customers_make(count: int, *, prefix: str = "P", email: bool = True) -> list[Customer]:
    return Customer.objects.bulk_create(
        [
            Customer(
                name=f"Passenger {i}",
                email=f"{prefix.lower()}{i}@example.com" if email else "",
                external_ref=f"{prefix}-{i}",
            )
            for i in range(count)
        ],
        batch_size=1000,
    )

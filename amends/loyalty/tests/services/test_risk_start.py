"""A new customer's first score: the same row the full refresh writes, in two statements."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
import time_machine

from amends.customers.choices import CustomerTier, LoyaltyStatus
from amends.customers.models import Customer
from amends.customers.services import customer_create
from amends.loyalty.models import CustomerRisk
from amends.loyalty.services.risk import customer_risk_refresh, customer_risk_start

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)

_COLUMNS = ("score", "breakdown", "status", "value_rank", "first_failure_at", "auto_at_risk")


def _row(customer: Customer) -> tuple[Any, ...]:
    risk = CustomerRisk.objects.get(customer=customer)
    return tuple(getattr(risk, name) for name in _COLUMNS)


@time_machine.travel(NOW, tick=False)
def test_a_created_customer_is_scored_from_the_customer_alone() -> None:
    customer = customer_create(
        name="Ann",
        email="ann@example.com",
        tier=CustomerTier.VIP,
        special_handling=True,
        special_handling_reason="Hearing impaired: write, do not call.",
        contract_end_date=date(2026, 7, 1),
    )
    risk = CustomerRisk.objects.get(customer=customer)
    assert risk.score == 15  # contract ending 10 + special handling 5
    assert [f["factor"] for f in risk.breakdown] == ["contract_ending", "special_handling"]
    assert risk.value_rank == 2
    assert risk.computed_at == NOW
    assert risk.status == LoyaltyStatus.ACTIVE
    before = _row(customer)
    # The full refresh finds nothing to change.
    customer_risk_refresh(customer_id=customer.pk, now=NOW)
    assert _row(customer) == before


def test_a_new_customer_costs_one_read_and_one_insert(django_assert_num_queries: Any) -> None:
    # The customer INSERT, loyalty's read of the customer and INSERT of the score (inside the
    # test's transaction customer_create takes no savepoint of its own).
    with django_assert_num_queries(3):
        customer = customer_create(name="Bob", email="bob@example.com")
    assert CustomerRisk.objects.get(customer=customer).score == 0


def test_a_first_score_that_moves_the_status_goes_through_the_full_refresh(settings: Any) -> None:
    settings.AMENDS = {**settings.AMENDS, "LOYALTY_RISK_WEIGHTS": {"special_handling": 60}}
    customer = customer_create(
        name="Cy", special_handling=True, special_handling_reason="Bereaved."
    )
    customer.refresh_from_db()
    assert customer.loyalty_status == LoyaltyStatus.AT_RISK
    risk = CustomerRisk.objects.get(customer=customer)
    assert (risk.score, risk.status, risk.auto_at_risk) == (60, LoyaltyStatus.AT_RISK, True)


def test_start_for_an_unknown_customer_is_none() -> None:
    assert customer_risk_start(customer_id=987654) is None

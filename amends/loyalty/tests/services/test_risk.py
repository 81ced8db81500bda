from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import time_machine

from amends.accounts.choices import Role
from amends.accounts.tests.factories import UserFactory
from amends.cases.choices import CaseStatus
from amends.cases.tests.factories import CaseFactory, case_in_status
from amends.customers.choices import LoyaltyStatus
from amends.customers.models import Customer
from amends.customers.tests.factories import CustomerFactory
from amends.loyalty.models import CustomerRisk, LoyaltyEvent
from amends.loyalty.services.risk import (
    RiskInputs,
    customer_risk_refresh,
    customer_risk_signals_store,
    risk_compute,
)
from amends.loyalty.tests.factories import queued_facts_refresh

NOW = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)


def test_risk_compute_adds_each_factor_and_lists_it() -> None:
    score, factors = risk_compute(
        RiskInputs(open_cases=2, broken_promises=1, upset=True, special_handling=True)
    )
    # 2 open cases x 10 + 1 broken promise x 15 + upset 10 + special handling 5
    assert score == 50
    assert [(f.factor, f.points) for f in factors] == [
        ("open_cases", 20),
        ("broken_promises", 15),
        ("upset", 10),
        ("special_handling", 5),
    ]


def test_risk_compute_caps_each_factor_and_the_total() -> None:
    score, factors = risk_compute(
        RiskInputs(
            open_cases=9,
            earlier_failures=9,
            broken_promises=9,
            oldest_open_days=400,
            upset=True,
            churn_intent=True,
            low_survey=True,
            contract_ending=True,
            special_handling=True,
        )
    )
    points = {f.factor: f.points for f in factors}
    assert points["open_cases"] == 30
    assert points["repeat_failures"] == 20
    assert points["broken_promises"] == 30
    assert points["time_unresolved"] == 15
    assert sum(points.values()) == 30 + 20 + 30 + 15 + 10 + 25 + 15 + 10 + 5
    assert score == 100


def test_risk_compute_uses_configured_weights() -> None:
    score, _ = risk_compute(RiskInputs(churn_intent=True), {"churn_intent": 60})
    assert score == 60


def test_risk_compute_is_zero_with_nothing_against_the_customer() -> None:
    assert risk_compute(RiskInputs()) == (0, [])


@pytest.mark.django_db
def test_customer_risk_refresh_counts_open_cases_repeats_and_contract() -> None:
    customer = CustomerFactory(contract_end_date=date(2026, 6, 20))
    with time_machine.travel(NOW - timedelta(days=5), tick=False):
        CaseFactory(customer=customer)
    with time_machine.travel(NOW, tick=False):
        CaseFactory(customer=customer)
        queued_facts_refresh()
        risk = CustomerRisk.objects.get(customer=customer)
    points = {f["factor"]: f["points"] for f in risk.breakdown}
    # two open cases, one earlier failure, oldest open five days, contract ends in 19 days
    assert points == {
        "open_cases": 20,
        "repeat_failures": 10,
        "time_unresolved": 5,
        "contract_ending": 10,
    }
    assert risk.score == 45


@pytest.mark.django_db
def test_customer_risk_refresh_moves_active_to_at_risk_and_back() -> None:
    customer = CustomerFactory()
    with time_machine.travel(NOW, tick=False):
        cases = [CaseFactory(customer=customer) for _ in range(2)]
        queued_facts_refresh()
        risk = customer_risk_refresh(customer_id=customer.pk, last_churn_intent_at=NOW)
    assert risk is not None
    assert risk.score >= 50
    assert Customer.objects.get(pk=customer.pk).loyalty_status == LoyaltyStatus.AT_RISK
    assert LoyaltyEvent.objects.filter(customer=customer, data__to="at_risk").exists()
    # Without the churn signal, two open cases (20) and one earlier failure (10) fall below 40
    with time_machine.travel(NOW, tick=False):
        risk = customer_risk_refresh(customer_id=customer.pk, last_churn_intent_at=None)
    assert risk is not None
    assert risk.score == 30
    assert Customer.objects.get(pk=customer.pk).loyalty_status == LoyaltyStatus.ACTIVE
    assert len(cases) == 2


@pytest.mark.django_db
def test_customer_risk_refresh_returns_none_for_unknown_customer() -> None:
    assert customer_risk_refresh(customer_id=987654321) is None


@pytest.mark.django_db
def test_resolving_cases_lowers_the_score() -> None:
    agent = UserFactory(role=Role.MANAGER)
    customer = CustomerFactory()
    case_in_status(CaseStatus.RESOLVED, actor=agent, customer=customer)
    risk = CustomerRisk.objects.get(customer=customer)
    assert {f["factor"] for f in risk.breakdown} == set()
    assert risk.score == 0


@pytest.mark.django_db
def test_customer_risk_refresh_is_one_statement_when_nothing_changed(
    django_assert_num_queries: Any,
) -> None:
    customer = CustomerFactory(contract_end_date=date(2026, 6, 20))
    with time_machine.travel(NOW - timedelta(days=3), tick=False):
        CaseFactory(customer=customer)
        CaseFactory(customer=customer)
    queued_facts_refresh()
    with time_machine.travel(NOW, tick=False):
        first = customer_risk_refresh(customer_id=customer.pk)
        assert first is not None
        with django_assert_num_queries(1):  # the score row, its customer and the aggregates
            again = customer_risk_refresh(customer_id=customer.pk)
        assert again is not None
        # the same figures the separate aggregate gives: 2 open cases, 1 earlier failure,
        # 3 days unresolved, contract ending
        assert (again.score, again.breakdown) == (first.score, first.breakdown)
        assert {f["factor"]: f["value"] for f in again.breakdown} == {
            "open_cases": 2,
            "repeat_failures": 1,
            "time_unresolved": 3,
            "contract_ending": 1,
        }
        with django_assert_num_queries(2):  # a stored signal changed: the row is written too
            customer_risk_refresh(customer_id=customer.pk, last_survey_at=NOW, last_csat=4)


@pytest.mark.django_db
def test_signals_stored_for_a_customer_not_scored_yet_make_a_row_with_the_defaults() -> None:
    customer = CustomerFactory()
    customer_risk_signals_store(customer_id=customer.pk, last_upset_at=NOW)
    risk = CustomerRisk.objects.get(customer=customer)
    assert risk.last_upset_at == NOW
    assert (risk.score, risk.breakdown, risk.status, risk.value_rank) == (0, [], "active", 1)
    assert risk.computed_at is None
    assert risk.last_churn_intent_at is None


@pytest.mark.django_db
def test_signals_stored_for_a_scored_customer_change_only_those_signals() -> None:
    customer = CustomerFactory()
    CustomerRisk.objects.create(
        customer=customer, score=42, breakdown=[{"factor": "upset"}], last_upset_at=NOW
    )
    later = NOW + timedelta(days=1)
    customer_risk_signals_store(customer_id=customer.pk, last_churn_intent_at=later, last_nps=3)
    risk = CustomerRisk.objects.get(customer=customer)
    assert (risk.last_churn_intent_at, risk.last_nps, risk.last_upset_at) == (later, 3, NOW)
    assert (risk.score, risk.breakdown) == (42, [{"factor": "upset"}])


@pytest.mark.django_db
def test_only_signals_can_be_stored_without_a_rescore() -> None:
    customer = CustomerFactory()
    with pytest.raises(TypeError, match="not a signal: score"):
        customer_risk_signals_store(customer_id=customer.pk, score=99)
    assert not CustomerRisk.objects.filter(customer=customer).exists()

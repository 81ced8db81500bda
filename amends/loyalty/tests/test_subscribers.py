"""Loyalty's reactions while a case is being opened: insight reads a new case (score, repeat
failure) before loyalty's own case_opened reaction has queued it, and the intake must not pay for
a full refresh of the fact, the rollups and the customer's score."""

from __future__ import annotations

from typing import Any

import pytest

from amends.cases.tests.factories import CaseFactory
from amends.core import hooks
from amends.customers.tests.factories import CustomerFactory
from amends.loyalty.models import CaseFact, CustomerRisk, FactRefresh
from amends.loyalty.services.facts import case_fact_refresh
from amends.loyalty.services.risk import customer_risk_start
from amends.loyalty.subscribers import on_message_scored, on_repeat_failure_detected
from amends.loyalty.tests.factories import queued_facts_refresh

pytestmark = pytest.mark.django_db


def _repeat(case_id: int, customer_id: int, earlier: int) -> None:
    on_repeat_failure_detected(
        hooks.RepeatFailureDetected(
            case_id=case_id,
            customer_id=customer_id,
            earlier_case_ids=(earlier,),
            double_deviation=False,
        )
    )


def test_a_repeat_found_on_a_case_without_a_fact_queues_it_and_the_sweep_marks_it() -> None:
    customer = CustomerFactory()
    first = CaseFactory(customer=customer)
    case_fact_refresh(case_id=first.pk)
    second = CaseFactory(customer=customer)
    # As at intake: insight's reaction comes before loyalty's own case_opened has queued it.
    FactRefresh.objects.all().delete()

    _repeat(second.pk, customer.pk, first.pk)

    assert FactRefresh.objects.filter(case_id=second.pk).exists()
    assert not CaseFact.objects.filter(case_id=second.pk).exists()
    assert CustomerRisk.objects.get(customer=customer).last_repeat_failure_at is not None

    queued_facts_refresh()
    assert CaseFact.objects.get(case_id=second.pk).repeat is True
    assert not FactRefresh.objects.filter(case_id=second.pk).exists()


def test_a_repeat_found_on_a_case_with_a_fact_marks_it_at_once() -> None:
    customer = CustomerFactory()
    first = CaseFactory(customer=customer)
    second = CaseFactory(customer=customer)
    case_fact_refresh(case_id=first.pk)
    case_fact_refresh(case_id=second.pk)
    CaseFact.objects.filter(case_id=second.pk).update(repeat=False)
    FactRefresh.objects.all().delete()

    _repeat(second.pk, customer.pk, first.pk)

    assert not FactRefresh.objects.filter(case_id=second.pk).exists()
    assert CaseFact.objects.get(case_id=second.pk).repeat is True


def _scored(case_id: int, customer_id: int, *, at_intake: bool) -> None:
    on_message_scored(
        hooks.MessageScored(
            case_id=case_id,
            customer_id=customer_id,
            message_id=None,
            intensity=0.9,
            upset=True,
            churn_intent=False,
            escalation_threat=False,
            at_intake=at_intake,
        )
    )


def test_a_score_at_intake_keeps_the_signal_without_looking_for_the_queue(
    django_assert_num_queries: Any,
) -> None:
    customer = CustomerFactory()
    customer_risk_start(customer_id=customer.pk)
    case = CaseFactory(customer=customer)
    # As at intake: insight's reaction comes before loyalty's own case_opened has queued it.
    FactRefresh.objects.all().delete()
    with django_assert_num_queries(1):  # the signal's UPDATE, nothing looked up
        _scored(case.pk, customer.pk, at_intake=True)
    assert CustomerRisk.objects.get(customer=customer).last_upset_at is not None
    # Queued by loyalty's own case_opened reaction, not here.
    assert not FactRefresh.objects.exists()


def test_a_repeat_found_at_intake_is_kept_for_the_queued_refresh(
    django_assert_num_queries: Any,
) -> None:
    customer = CustomerFactory()
    customer_risk_start(customer_id=customer.pk)
    first = CaseFactory(customer=customer)
    case_fact_refresh(case_id=first.pk)
    second = CaseFactory(customer=customer)
    FactRefresh.objects.all().delete()
    with django_assert_num_queries(1):
        on_repeat_failure_detected(
            hooks.RepeatFailureDetected(
                case_id=second.pk,
                customer_id=customer.pk,
                earlier_case_ids=(first.pk,),
                double_deviation=False,
                at_intake=True,
            )
        )
    assert CustomerRisk.objects.get(customer=customer).last_repeat_failure_at is not None
    assert not CaseFact.objects.filter(case_id=second.pk).exists()


def test_a_score_after_intake_still_looks_for_the_queue() -> None:
    customer = CustomerFactory()
    case = CaseFactory(customer=customer)
    queued_facts_refresh()  # the case has its fact and is no longer queued
    _scored(case.pk, customer.pk, at_intake=False)
    # Not at intake and not queued: the customer was rescored at once, nothing queued.
    assert not FactRefresh.objects.filter(case_id=case.pk).exists()
    assert CustomerRisk.objects.get(customer=customer).last_upset_at is not None

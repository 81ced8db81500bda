"""Broken promises reach the facts and risk through the refresh queue and its sweep."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from amends.commitments.choices import CommitmentStatus
from amends.commitments.sweeps import commitment_sweep
from amends.commitments.tests.factories import CommitmentFactory
from amends.loyalty.models import CaseFact, CustomerRisk, FactRefresh
from amends.loyalty.sweeps import fact_refresh_sweep

pytestmark = pytest.mark.django_db


def test_fact_refresh_sweep_counts_a_broken_promise_after_the_commitment_sweep() -> None:
    # Given an open promise due in an hour
    promise = CommitmentFactory(due_at=timezone.now() + timedelta(hours=1))
    case = promise.case
    before = CaseFact.objects.get(case_id=case.pk)
    assert before.promises_broken == 0
    # When the commitment sweep runs after it fell due, the case waits in the queue (no
    # per-case work inside the sweep)
    now = timezone.now() + timedelta(hours=2)
    assert commitment_sweep(now=now) >= 1
    promise.refresh_from_db()
    assert promise.status == CommitmentStatus.BROKEN
    assert list(FactRefresh.objects.values_list("case_id", flat=True)) == [case.pk]
    assert CaseFact.objects.get(case_id=case.pk).promises_broken == 0
    # Then the loyalty sweep refreshes the fact and the customer's risk, and empties the queue
    assert fact_refresh_sweep(now=now) == 1
    assert CaseFact.objects.get(case_id=case.pk).promises_broken == 1
    risk = CustomerRisk.objects.get(customer_id=case.customer_id)
    assert "broken_promise" in str(risk.breakdown)
    assert not FactRefresh.objects.exists()
    assert fact_refresh_sweep(now=now) == 0

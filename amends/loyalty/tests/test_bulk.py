"""loyalty on cases opened set-based (imports): the batch is queued for the refresh sweep."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from amends.cases.services.batch import NewCase, cases_open_many
from amends.customers.services import CustomerKey
from amends.customers.tests.factories import CustomerFactory
from amends.loyalty.models import CaseFact, FactRefresh
from amends.loyalty.sweeps import fact_refresh_sweep

pytestmark = pytest.mark.django_db


def test_imported_cases_are_queued_then_refreshed_by_the_sweep(
    django_capture_on_commit_callbacks: Any,
) -> None:
    customers = [CustomerFactory() for _ in range(3)]
    with django_capture_on_commit_callbacks(execute=True):
        ids = cases_open_many(
            specs=[
                NewCase(customer=CustomerKey(c.pk, c.tier, c.special_handling), title=f"Case {i}")
                for i, c in enumerate(customers)
            ]
        )
    assert set(FactRefresh.objects.values_list("case_id", flat=True)) == set(ids)
    assert not CaseFact.objects.filter(case_id__in=ids).exists()
    assert fact_refresh_sweep(now=datetime.now(UTC)) == 3
    assert set(CaseFact.objects.values_list("case_id", flat=True)) >= set(ids)
    assert not FactRefresh.objects.exists()


def test_queueing_cases_already_queued_keeps_one_row_each_and_adds_the_rest() -> None:
    from amends.loyalty.bulk import cases_queue_for_refresh

    customer = CustomerFactory()
    key = CustomerKey(customer.pk, customer.tier, customer.special_handling)
    first, second = cases_open_many(
        specs=[NewCase(customer=key, title="One"), NewCase(customer=key, title="Two")]
    )
    cases_queue_for_refresh(case_ids=(first,))
    # on PostgreSQL the COPY meets the queued row and the rows go again without the conflict
    cases_queue_for_refresh(case_ids=(first, second, second))
    assert sorted(FactRefresh.objects.values_list("case_id", flat=True)) == sorted([first, second])

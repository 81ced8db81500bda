from __future__ import annotations

import factory
from django.utils import timezone

from amends.core.testing import ModelFactory
from amends.customers.tests.factories import CustomerFactory
from amends.loyalty.models import CustomerRisk
from amends.loyalty.sweeps import fact_refresh_sweep


class CustomerRiskFactory(ModelFactory[CustomerRisk]):
    class Meta:
        model = CustomerRisk

    customer = factory.SubFactory(CustomerFactory)


def queued_facts_refresh() -> int:
    """What the worker does within a sweep interval: refresh the facts, rollups and scores of
    the cases queued since (every new case is queued at intake)."""
    return fact_refresh_sweep(now=timezone.now())

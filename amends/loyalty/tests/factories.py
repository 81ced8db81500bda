from __future__ import annotations

import factory

from amends.customers.tests.factories import CustomerFactory
from amends.loyalty.models import CustomerRisk


class CustomerRiskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerRisk

    customer = factory.SubFactory(CustomerFactory)

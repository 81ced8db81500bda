from __future__ import annotations

from typing import Any

import factory

from amends.cases.models import Case
from amends.cases.services.intake import case_create
from amends.customers.tests.factories import CustomerFactory


class CaseFactory(factory.django.DjangoModelFactory):
    """A new case opened through the real intake service (steps and SLA clocks included)."""

    class Meta:
        model = Case

    customer = factory.SubFactory(CustomerFactory)
    title = factory.Sequence(lambda n: f"Service failure {n}")
    description = "My broadband has been down for three days."
    expected = "A working connection"
    delivered = "No service since Monday"
    severity = 3

    @classmethod
    def _create(cls, model_class: type[Case], *args: Any, **kwargs: Any) -> Case:
        kwargs.setdefault("actor", None)
        return case_create(**kwargs)

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from amends.taxonomy.models import Category, Service
from amends.taxonomy.services import categories_ensure, category_ensure, services_ensure
from amends.taxonomy.tests.factories import CategoryFactory, ServiceFactory

pytestmark = pytest.mark.django_db


def test_categories_ensure_creates_only_the_missing_ones_set_based() -> None:
    billing = CategoryFactory(name="Billing")
    CategoryFactory(name="Overcharge", parent=billing)
    parents = {"Billing": billing}
    wanted = {
        ("Billing", "Overcharge"),
        ("Billing", "Refund"),
        ("Network", "Outage"),
        ("Network", ""),
    }
    with CaptureQueriesContext(connection) as queries:
        found = categories_ensure(wanted=wanted, parents=parents)
    # two INSERTs and two reads, whatever the number of names
    assert len(queries) == 4
    assert set(found) == wanted
    assert {(c.parent.name if c.parent else "", c.name) for c in found.values()} == {
        ("Billing", "Overcharge"),
        ("Billing", "Refund"),
        ("Network", "Outage"),
        ("", "Network"),
    }
    assert set(parents) == {"Billing", "Network"}
    assert Category.objects.count() == 5
    assert categories_ensure(wanted=wanted, parents=parents) == found
    assert Category.objects.count() == 5


def test_category_ensure_creates_once() -> None:
    refund = category_ensure(parent_name="Billing", child_name="Refund")
    assert refund.parent is not None
    assert (refund.parent.name, refund.name) == ("Billing", "Refund")
    assert category_ensure(parent_name="Billing", child_name="Refund") == refund
    assert category_ensure(parent_name="Billing") == refund.parent
    assert Category.objects.count() == 2


def test_services_ensure_returns_ids_and_creates_the_missing() -> None:
    fibre = ServiceFactory(name="Fibre")
    ids = services_ensure(names=["Fibre", "Mobile", ""])
    assert ids == {"Fibre": fibre.pk, "Mobile": Service.objects.get(name="Mobile").pk}
    assert services_ensure(names=[]) == {}
    assert Service.objects.count() == 2

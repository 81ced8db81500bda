from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from amends.taxonomy.selectors import category_list, service_list
from amends.taxonomy.tests.factories import CategoryFactory, ServiceFactory

pytestmark = pytest.mark.django_db


def test_category_has_two_levels_at_most() -> None:
    billing = CategoryFactory(name="Billing")
    overcharge = CategoryFactory(name="Overcharge", parent=billing)
    assert str(overcharge) == "Billing › Overcharge"
    third = CategoryFactory.build(name="Too deep", parent=overcharge)
    with pytest.raises(ValidationError) as excinfo:
        third.full_clean()
    assert "parent" in excinfo.value.message_dict


def test_category_cannot_be_its_own_parent() -> None:
    billing = CategoryFactory(name="Billing")
    billing.parent = billing
    with pytest.raises(ValidationError):
        billing.full_clean()


def test_category_names_are_unique_within_a_parent() -> None:
    billing = CategoryFactory(name="Billing")
    CategoryFactory(name="Refund", parent=billing)
    with pytest.raises(IntegrityError):
        CategoryFactory(name="Refund", parent=billing)


def test_category_and_service_lists_hide_inactive() -> None:
    active = CategoryFactory(name="Active")
    hidden = CategoryFactory(name="Hidden", active=False)
    assert list(category_list()) == [active]
    assert set(category_list(active_only=False)) == {active, hidden}
    broadband = ServiceFactory(name="Broadband")
    ServiceFactory(name="Fax", active=False)
    assert list(service_list()) == [broadband]

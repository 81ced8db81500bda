from __future__ import annotations

from datetime import date

import pytest

from amends.core.exceptions import ApplicationError
from amends.customers.choices import CustomerTier, LoyaltyStatus
from amends.customers.models import Customer
from amends.customers.services import (
    customer_create,
    customer_get_or_create_by_ref,
    customer_update,
)
from amends.customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_customer_create_stores_cleaned_details() -> None:
    customer = customer_create(
        name="  Ada Lee ",
        email=" ada@example.com ",
        phone=" 0123 ",
        external_ref=" C-1 ",
        tier=CustomerTier.VIP,
        special_handling=True,
        special_handling_reason=" Bereavement ",
        contract_end_date=date(2027, 1, 31),
        loyalty_status=LoyaltyStatus.AT_RISK,
    )
    customer.refresh_from_db()
    assert (customer.name, customer.email, customer.phone, customer.external_ref) == (
        "Ada Lee",
        "ada@example.com",
        "0123",
        "C-1",
    )
    assert customer.is_vip
    assert customer.special_handling_reason == "Bereavement"
    assert customer.contract_end_date == date(2027, 1, 31)
    assert customer.loyalty_status == "at_risk"


def test_customer_create_blank_external_ref_is_stored_as_null() -> None:
    first = customer_create(name="A", external_ref="  ")
    second = customer_create(name="B", external_ref="")
    assert first.external_ref is None
    assert second.external_ref is None


@pytest.mark.parametrize("reason", ["", "   "])
def test_customer_create_special_handling_needs_reason(reason: str) -> None:
    with pytest.raises(ApplicationError) as excinfo:
        customer_create(name="Ada", special_handling=True, special_handling_reason=reason)
    assert (excinfo.value.code, excinfo.value.status) == ("special_handling_reason_required", 422)
    assert "special_handling_reason" in excinfo.value.detail
    assert not Customer.objects.exists()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": "  "}, "name"),
        ({"email": "not-an-email"}, "email"),
        ({"tier": "gold"}, "tier"),
        ({"loyalty_status": "ecstatic"}, "loyalty_status"),
        ({"name": "x" * 201}, "name"),
    ],
)
def test_customer_create_refused_for_invalid_details(kwargs: dict, field: str) -> None:
    params = {"name": "Ada"} | kwargs
    with pytest.raises(ApplicationError) as excinfo:
        customer_create(**params)
    assert (excinfo.value.code, excinfo.value.status) == ("invalid_customer", 422)
    assert field in excinfo.value.detail
    assert not Customer.objects.exists()


def test_customer_create_duplicate_external_ref_conflicts() -> None:
    customer_create(name="Ada", external_ref="C-1")
    with pytest.raises(ApplicationError) as excinfo:
        customer_create(name="Someone else", external_ref=" C-1")
    assert (excinfo.value.code, excinfo.value.status) == ("customer_exists", 409)
    assert Customer.objects.count() == 1


def test_customer_get_or_create_by_ref_is_idempotent() -> None:
    first = customer_get_or_create_by_ref(external_ref="C-1", defaults={"name": "Ada Lee"})
    again = customer_get_or_create_by_ref(external_ref="C-1", defaults={"name": "Other name"})
    padded = customer_get_or_create_by_ref(external_ref=" C-1 ", defaults={"name": "Ada"})
    assert first.pk == again.pk == padded.pk
    assert again.name == "Ada Lee"
    assert Customer.objects.count() == 1


def test_customer_get_or_create_by_ref_validates_new_customers() -> None:
    with pytest.raises(ApplicationError) as excinfo:
        customer_get_or_create_by_ref(external_ref="C-2", defaults={"name": "Ada", "email": "nope"})
    assert excinfo.value.code == "invalid_customer"
    assert not Customer.objects.exists()


def test_customer_update_changes_fields() -> None:
    customer = CustomerFactory(name="Ada")
    customer = customer_update(
        customer=customer, actor=None, name=" Ada Lee ", loyalty_status="won_back"
    )
    customer.refresh_from_db()
    assert (customer.name, customer.loyalty_status) == ("Ada Lee", "won_back")


def test_customer_update_refuses_unknown_fields_and_invalid_values() -> None:
    customer = CustomerFactory(name="Ada")
    with pytest.raises(ApplicationError) as excinfo:
        customer_update(customer=customer, actor=None, external_ref="X")
    assert excinfo.value.code == "invalid_field"
    with pytest.raises(ApplicationError) as excinfo:
        customer_update(customer=customer, actor=None, special_handling=True)
    assert excinfo.value.code == "special_handling_reason_required"
    customer.refresh_from_db()
    assert customer.special_handling is False

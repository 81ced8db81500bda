"""core.rows' multi-row insert on a real table: more rows than one statement takes, the ids it
returns are the rows' own and in their order, and conflicts skipped are not returned."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.utils import timezone

from amends.core.rows import (
    db_datetime_text,
    insert_rows,
    instance_insert,
    instance_only,
    instances_insert,
    instances_where,
)
from amends.customers.choices import CustomerTier, LoyaltyStatus
from amends.customers.models import Customer
from amends.customers.tests.factories import CustomerFactory

COLUMNS = [
    "external_ref",
    "name",
    "email",
    "phone",
    "tier",
    "special_handling",
    "special_handling_reason",
    "loyalty_status",
    "created_at",
    "updated_at",
]


def _rows(refs: list[str]) -> list[tuple[object, ...]]:
    now = db_datetime_text(timezone.now())
    standard, active = CustomerTier.STANDARD, LoyaltyStatus.ACTIVE
    return [(ref, f"Customer {ref}", "", "", standard, False, "", active, now, now) for ref in refs]


def _ids_by_ref(refs: list[str]) -> dict[str | None, int]:
    return dict(Customer.objects.filter(external_ref__in=refs).values_list("external_ref", "pk"))


@pytest.mark.django_db
def test_ids_returned_are_the_inserted_rows_in_order() -> None:
    CustomerFactory()
    CustomerFactory().delete()  # an auto-increment key is not reused
    refs = [f"rows-{n}" for n in range(1203)]  # more than two statements' worth on SQLite
    with transaction.atomic():
        returned = insert_rows(model=Customer, columns=COLUMNS, rows=_rows(refs), returning=["id"])
    by_ref = _ids_by_ref(refs)
    assert [row[0] for row in returned] == [by_ref[ref] for ref in refs]


@pytest.mark.django_db
def test_skipped_conflicts_return_only_the_rows_inserted() -> None:
    CustomerFactory(external_ref="taken")
    refs = ["new-1", "taken", "new-2"]
    with transaction.atomic():
        returned = insert_rows(
            model=Customer,
            columns=COLUMNS,
            rows=_rows(refs),
            skip_conflicts=True,
            returning=["id", "external_ref"],
        )
    by_ref = _ids_by_ref(refs)
    assert sorted(returned) == sorted((by_ref[ref], ref) for ref in ("new-1", "new-2"))


@pytest.mark.django_db
def test_rows_without_returning_are_all_inserted() -> None:
    refs = [f"plain-{n}" for n in range(600)]
    assert insert_rows(model=Customer, columns=COLUMNS, rows=_rows(refs)) == []
    assert Customer.objects.filter(external_ref__startswith="plain-").count() == 600


@pytest.mark.django_db
def test_an_instance_inserted_gets_its_key_and_its_stamps_like_a_save() -> None:
    customer = Customer(name="Ada", email="ada@example.com", external_ref="one-row")
    instance_insert(customer)
    assert customer.pk is not None
    assert not customer._state.adding
    stored = Customer.objects.get(pk=customer.pk)
    assert (stored.name, stored.email, stored.external_ref) == ("Ada", "ada@example.com", "one-row")
    assert stored.created_at == customer.created_at
    assert stored.updated_at == customer.updated_at
    assert stored.tier == CustomerTier.STANDARD  # the field's default, as a save writes it


@pytest.mark.django_db
def test_an_instance_read_with_some_fields_has_them_converted_and_the_rest_deferred() -> None:
    made = CustomerFactory(name="Grace", special_handling=True, special_handling_reason="Carer")
    got = instance_only(Customer, made.pk, ["name", "created_at", "special_handling"])
    assert got is not None
    assert (got.pk, got.name, got.special_handling) == (made.pk, "Grace", True)
    assert got.created_at == made.created_at  # an aware datetime, as the ORM reads it
    assert got.get_deferred_fields() >= {"email", "tier"}
    assert got.email == made.email  # a deferred field is read when first used
    assert instance_only(Customer, made.pk + 1000, ["name"]) is None


@pytest.mark.django_db
def test_instances_read_by_a_fixed_statement_are_filtered_ordered_and_converted() -> None:
    first = CustomerFactory(name="B", tier=CustomerTier.VIP)
    second = CustomerFactory(name="A", tier=CustomerTier.VIP)
    CustomerFactory(name="C", tier=CustomerTier.STANDARD)
    got = instances_where(Customer, "tier = %s", [CustomerTier.VIP], ["name", "-id"])
    assert [c.pk for c in got] == [second.pk, first.pk]
    assert got[0].created_at == second.created_at  # aware, as the ORM reads it
    assert not got[0]._state.adding


@pytest.mark.django_db
def test_a_few_instances_inserted_in_one_statement_are_stored_as_bulk_create_would() -> None:
    made = [Customer(name=f"Row {n}", external_ref=f"few-{n}") for n in range(3)]
    instances_insert(made)
    stored = list(Customer.objects.filter(external_ref__startswith="few-").order_by("pk"))
    assert [c.name for c in stored] == ["Row 0", "Row 1", "Row 2"]
    assert all(c.tier == CustomerTier.STANDARD for c in stored)  # the field default, as written
    instances_insert([])  # nothing to write: no statement

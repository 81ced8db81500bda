from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection

from amends.core.exceptions import PermissionDeniedError
from amends.customers.models import Customer
from amends.customers.selectors import (
    customer_get,
    customer_get_for_user,
    customer_newest_with_email,
    customer_search,
    customer_visible_to,
    customers_by_external_ref,
    customers_with_email,
)
from amends.customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_customer_search_matches_ref_email_phone_and_name_prefix() -> None:
    ada = CustomerFactory(
        name="Ada Lee", email="ada@example.com", phone="07700 900123", external_ref="C-1"
    )
    bob = CustomerFactory(
        name="Bob Adams", email="bob@example.com", phone="0113 496", external_ref="C-2"
    )
    assert list(customer_search(query="C-1")) == [ada]
    assert list(customer_search(query="ADA@example.com")) == [ada]
    assert list(customer_search(query="07700")) == [ada]
    assert list(customer_search(query="ada")) == [ada]  # prefix, not substring of "Adams"
    assert list(customer_search(query="  bob ")) == [bob]
    assert list(customer_search(query="zed")) == []


def test_customer_search_without_query_lists_newest_first() -> None:
    first = CustomerFactory()
    second = CustomerFactory()
    assert list(customer_search()) == [second, first]


def test_customer_get_raises_when_missing() -> None:
    customer = CustomerFactory()
    assert customer_get(customer_id=customer.pk) == customer
    with pytest.raises(Customer.DoesNotExist):
        customer_get(customer_id=customer.pk + 1)


def test_customer_visible_to_shows_every_customer_to_staff() -> None:
    # Staff of any team see every customer (the permissions matrix covers each role); a
    # superuser without a staff profile counts as an admin.
    ada = CustomerFactory()
    admin = User.objects.create_superuser("root")
    assert list(customer_visible_to(user=admin)) == [ada]
    assert customer_get_for_user(customer_id=ada.pk, user=admin) == ada
    assert list(customer_search(query=ada.name, user=admin)) == [ada]


def test_customer_visible_to_refuses_users_without_a_staff_role() -> None:
    ada = CustomerFactory()
    plain = User.objects.create_user("plain")
    with pytest.raises(PermissionDeniedError):
        customer_get_for_user(customer_id=ada.pk, user=plain)
    with pytest.raises(PermissionDeniedError):
        customer_search(user=plain)


def test_customers_by_external_ref_reads_a_chunk_at_a_time_and_leaves_unknown_out(
    django_assert_num_queries: Any,
) -> None:
    known = {f"R-{i}": CustomerFactory(external_ref=f"R-{i}") for i in range(5)}
    refs = [*known, "R-404", "R-0", ""]  # unknown, repeated and empty references
    with django_assert_num_queries(3):  # 6 distinct references, 2 per read
        found = customers_by_external_ref(refs=refs, chunk=2)
    assert found == known


def test_customers_with_email_match_any_case_through_the_lower_email_index() -> None:
    ann = CustomerFactory(email="Ann.Lee@Example.com")
    other = CustomerFactory(email="ann.lee@example.org")
    assert list(customers_with_email(address=" ann.lee@EXAMPLE.com ")) == [ann]
    assert other not in customers_with_email(address="ann.lee@example.com")
    sql, params = customers_with_email(address="ann.lee@example.com").query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan TO off")  # a tiny table is scanned anyway
            cursor.execute(f"EXPLAIN {sql}", params)
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = " ".join(str(row) for row in cursor.fetchall())
    assert "customer_email_lower_idx" in plan


def test_the_newest_customer_with_an_email_is_found_in_any_case() -> None:
    older = CustomerFactory(email="bo@example.com")
    newer = CustomerFactory(email="BO@example.com")
    Customer.objects.filter(pk=older.pk).update(created_at=newer.created_at - timedelta(days=1))
    assert customer_newest_with_email(address="Bo@Example.COM ") == newer
    Customer.objects.filter(pk=older.pk).update(created_at=newer.created_at + timedelta(days=1))
    found = customer_newest_with_email(address="bo@example.com")
    assert found == older
    assert found is not None
    assert found.email == "bo@example.com"
    assert customer_newest_with_email(address="nobody@example.com") is None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("o'", ["O'Brien"]),  # a prefix ending in punctuation (collations may ignore it)
        ("o'b", ["O'Brien"]),
        ("liz", ["Lizzy Ray"]),  # ends in z: the range's end is "li{"
        ("ÉMILE", ["Émile Zola"]),  # not ASCII: lowered as the database lowers it
        ("0779", ["Ann Cole"]),  # a phone prefix ending in 9
        ("+44 20", ["Dev Shah"]),
        ("07799 1", []),
        ("zz", []),
    ],
)
def test_customer_search_prefixes_at_the_edges_of_their_range(
    query: str, expected: list[str]
) -> None:
    CustomerFactory(name="O'Brien", phone="01632 960001")
    CustomerFactory(name="Obrien Hale", phone="01632 960002")
    CustomerFactory(name="Lizzy Ray", phone="01632 960003")
    CustomerFactory(name="Li{ Odd", phone="01632 960004")
    CustomerFactory(name="Émile Zola", phone="01632 960005")
    CustomerFactory(name="Ann Cole", phone="07799 000111")
    CustomerFactory(name="Dev Shah", phone="+44 20 7946 0000")
    assert [c.name for c in customer_search(query=query)] == expected


def test_customer_search_reads_through_indexes_only() -> None:
    sql, params = customer_search(query="ann@example.com")[:25].query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan TO off")  # a tiny table is scanned anyway
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert "BitmapOr" in plan
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            plan = "\n".join(str(row[3]) for row in cursor.fetchall())
            assert "MULTI-INDEX OR" in plan
            assert "SCAN customers_customer" not in plan
    for index in ("customer_name_key_idx", "customer_phone_key_idx", "customer_email_lower_idx"):
        assert index in plan


def test_customer_search_folds_case_beyond_ascii_where_the_database_does() -> None:
    CustomerFactory(name="Émile Zola")
    # SQLite's LIKE and LOWER fold ASCII letters only (as Django's istartswith there)
    expected = ["Émile Zola"] if connection.vendor == "postgresql" else []
    assert [c.name for c in customer_search(query="émile z")] == expected
    assert [c.name for c in customer_search(query="Émile z")] == ["Émile Zola"]

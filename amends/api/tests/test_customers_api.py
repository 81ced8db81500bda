from __future__ import annotations

from typing import Any

import pytest

from amends.accounts.tests.factories import UserFactory
from amends.customers.models import Customer
from amends.customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(api_client_for: Any) -> Any:
    return api_client_for(UserFactory())


def test_customer_create_endpoint_creates(api: Any) -> None:
    r = api.post(
        "/api/v1/customers",
        {
            "name": "Ada Lee",
            "email": "ada@example.com",
            "external_ref": "C-1",
            "tier": "vip",
            "special_handling": True,
            "special_handling_reason": "Vulnerable",
            "contract_end_date": "2027-01-31",
            "loyalty_status": "at_risk",
        },
    )
    assert r.status_code == 201
    body = r.json()
    customer = Customer.objects.get()
    assert body["id"] == customer.pk
    assert (body["tier"], body["special_handling_reason"], body["contract_end_date"]) == (
        "vip",
        "Vulnerable",
        "2027-01-31",
    )


def test_customer_create_endpoint_duplicate_ref_is_409(api: Any) -> None:
    CustomerFactory(external_ref="C-1")
    r = api.post("/api/v1/customers", {"name": "Ada", "external_ref": "C-1"})
    assert r.status_code == 409
    assert r.json()["code"] == "customer_exists"
    assert Customer.objects.count() == 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "Ada", "special_handling": True}, "special_handling_reason"),
        ({"name": "Ada", "tier": "gold"}, "tier"),
        ({"name": "Ada", "email": "nope"}, "email"),
        ({"name": "Ada", "contract_end_date": "tomorrow"}, "contract_end_date"),
        ({"name": "A\x00da"}, "name"),
    ],
)
def test_customer_create_endpoint_invalid_is_422(
    api: Any, payload: dict[str, Any], field: str
) -> None:
    r = api.post("/api/v1/customers", payload)
    assert r.status_code == 422
    body = r.json()
    assert set(body) == {"code", "message", "detail"}
    assert field in body["detail"]
    assert not Customer.objects.exists()


def test_customer_get_endpoint(api: Any) -> None:
    customer = CustomerFactory(name="Ada Lee")
    r = api.get(f"/api/v1/customers/{customer.pk}")
    assert (r.status_code, r.json()["name"]) == (200, "Ada Lee")
    for missing in (customer.pk + 1, 10**30):
        r = api.get(f"/api/v1/customers/{missing}")
        assert r.status_code == 404
        assert r.json()["code"] == "not_found"


def test_customer_search_endpoint_paginates(api: Any) -> None:
    for n in range(3):
        CustomerFactory(name=f"Ada {n}")
    CustomerFactory(name="Bob")
    r = api.get("/api/v1/customers", q="ada", size=2)
    body = r.json()
    assert [c["name"] for c in body["items"]] == ["Ada 0", "Ada 1"]
    assert body["has_next"] is True
    body = api.get("/api/v1/customers", q="ada", size=2, page=2).json()
    assert ([c["name"] for c in body["items"]], body["has_next"]) == (["Ada 2"], False)
    assert api.get("/api/v1/customers", size=500).status_code == 422
    assert api.get("/api/v1/customers", q="a\x00").status_code == 422

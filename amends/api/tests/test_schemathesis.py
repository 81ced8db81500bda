"""Property-based: no generated input may make the API answer 500 (schemathesis, bounded)."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from amends.accounts.choices import Role
from amends.accounts.services import api_token_create
from amends.accounts.tests.factories import TeamFactory, UserFactory
from amends.cases.tests.factories import CaseFactory
from amends.customers.tests.factories import CustomerFactory

# Every tag of the API is fuzzed here; test_every_tag_is_fuzzed notices a new tag.
FUZZED_TAGS = [
    "cases",
    "customers",
    "me",
    "remedies",
    "commitments",
    "insight",
    "channels",
    "incidents",
    "feedback",
    "loyalty",
    "desk",
]
raw_schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
schema = raw_schema.include(tag=FUZZED_TAGS)


def test_every_tag_is_fuzzed() -> None:
    tags = {
        tag
        for operations in raw_schema.raw_schema["paths"].values()
        for operation in operations.values()
        for tag in operation.get("tags", [])
    }
    assert tags - set(FUZZED_TAGS) == set()


@pytest.fixture
def world(db: Any) -> Iterator[dict[str, Any]]:
    """A manager's token and one real case and customer, so generated calls reach services."""
    # Like Django's test client: requests must not close the connection holding the test's
    # transaction (PostgreSQL would lose it).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    user = UserFactory(role=Role.MANAGER, team=TeamFactory())
    _, token = api_token_create(user=user)
    try:
        yield {"token": token, "case": CaseFactory(), "customer": CustomerFactory()}
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=15,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_never_answers_500(case: Any, world: dict[str, Any]) -> None:
    params = case.path_parameters or {}
    # Half the time aim at records that exist, so the services' own checks run too.
    if zlib.crc32(repr(case.body).encode() + repr(case.query).encode()) % 2:
        if "ref" in params:
            params["ref"] = world["case"].ref
        if "customer_id" in params:
            params["customer_id"] = world["customer"].pk
    response = case.call(headers={"Authorization": f"Bearer {world['token']}"})
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

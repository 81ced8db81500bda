from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

CASE_ACTIONS = [
    "/api/v1/cases",
    "/api/v1/cases/{ref}",
    "/api/v1/cases/{ref}/acknowledge",
    "/api/v1/cases/{ref}/assign",
    "/api/v1/cases/{ref}/steps/{step}/done",
    "/api/v1/cases/{ref}/steps/{step}/skip",
    "/api/v1/cases/{ref}/messages",
    "/api/v1/cases/{ref}/resolve",
    "/api/v1/cases/{ref}/close",
    "/api/v1/cases/{ref}/reopen",
    "/api/v1/cases/{ref}/await-customer",
    "/api/v1/cases/{ref}/resume",
    "/api/v1/cases/{ref}/timeline",
]


def test_openapi_schema_lists_every_case_action() -> None:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "Amends API"
    paths = schema["paths"]
    for path in CASE_ACTIONS:
        assert path in paths, path
    assert set(paths["/api/v1/cases/{ref}"]) >= {"get", "patch"}
    for path in CASE_ACTIONS[2:12]:
        assert "post" in paths[path]
        responses = paths[path]["post"]["responses"]
        assert {"200", "201"} & set(responses)
        assert {"404", "409", "422"} <= set(responses), path
    assert "/api/v1/customers" in paths
    assert "/api/v1/customers/{customer_id}" in paths


def test_api_docs_page_is_served() -> None:
    response = Client().get("/api/docs")
    assert response.status_code == 200
    assert b"openapi.json" in response.content

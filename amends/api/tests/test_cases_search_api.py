"""`GET /api/v1/cases?q=`: the contract of issue 17 (same permissions and pagination as the list)."""

from __future__ import annotations

from typing import Any

import pytest

from amends.accounts.choices import Role
from amends.accounts.tests.factories import TeamFactory, UserFactory
from amends.cases.tests.factories import CaseFactory
from amends.customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def team() -> Any:
    return TeamFactory(name="Billing")


@pytest.fixture
def agent(team: Any) -> Any:
    return UserFactory(role=Role.AGENT, team=team, username="alice")


@pytest.fixture
def api(api_client_for: Any, agent: Any) -> Any:
    return api_client_for(agent)


def refs(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["ref"] for item in response.json()["items"]]


def test_case_list_endpoint_q_searches_name_email_reference_and_text(api: Any, team: Any) -> None:
    customer = CustomerFactory(name="Poppy Walsh", email="poppy@example.net", phone="07700 900456")
    case = CaseFactory(team=team, customer=customer, title="Engineer never came")
    # A fixed customer: a generated name or address could contain "walsh" too.
    other = CustomerFactory(name="Ada Brook", email="ada@example.org", phone="07700 900111")
    CaseFactory(team=team, customer=other, title="Refund missing")
    for q in ("walsh", "poppy@example.net", case.ref, "engineer came", "07700900456"):
        assert refs(api.get("/api/v1/cases", q=q)) == [case.ref], q
    assert refs(api.get("/api/v1/cases", q="refund walsh")) == []


def test_case_list_endpoint_q_hides_cases_the_caller_may_not_see(
    api: Any, team: Any, api_client_for: Any
) -> None:
    network = TeamFactory(name="Network")
    mine = CaseFactory(team=team, title="Outage in Leeds")
    theirs = CaseFactory(team=network, title="Outage in York")
    assert refs(api.get("/api/v1/cases", q="outage")) == [mine.ref]
    manager = api_client_for(UserFactory(role=Role.MANAGER))
    assert set(refs(manager.get("/api/v1/cases", q="outage"))) == {mine.ref, theirs.ref}


def test_case_list_endpoint_q_pages_like_the_list(api: Any, team: Any) -> None:
    CaseFactory.create_batch(5, team=team, title="Router fault")
    first = api.get("/api/v1/cases", q="router", size=2)
    body = first.json()
    assert (len(body["items"]), body["page"], body["size"], body["has_next"]) == (2, 1, 2, True)
    last = api.get("/api/v1/cases", q="router", size=2, page=3).json()
    assert (len(last["items"]), last["has_next"]) == (1, False)
    seen = (
        refs(first)
        + refs(api.get("/api/v1/cases", q="router", size=2, page=2))
        + [i["ref"] for i in last["items"]]
    )
    assert len(set(seen)) == 5


def test_case_list_endpoint_q_combines_with_filters_and_sort(api: Any, team: Any) -> None:
    high = CaseFactory(team=team, title="Slow line", severity=1)
    low = CaseFactory(team=team, title="Slow line", severity=4)
    assert refs(api.get("/api/v1/cases", q="slow", severity=4)) == [low.ref]
    assert refs(api.get("/api/v1/cases", q="slow", sort="-severity")) == [low.ref, high.ref]
    assert refs(api.get("/api/v1/cases", q="slow", sort="severity")) == [high.ref, low.ref]


@pytest.mark.parametrize(
    ("params", "field"),
    [({"q": "x" * 201}, "q"), ({"sort": "title"}, "sort"), ({"q": "ok", "size": 10**9}, "size")],
)
def test_case_list_endpoint_q_refuses_bad_input(
    api: Any, params: dict[str, Any], field: str
) -> None:
    response = api.get("/api/v1/cases", **params)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_input"
    assert field in body["detail"]


@pytest.mark.parametrize("q", ['"', "*", "NEAR(", "a OR", "\x00", "😀", "AND NOT"])
def test_case_list_endpoint_q_never_breaks_on_query_syntax(api: Any, team: Any, q: str) -> None:
    CaseFactory(team=team, title="Anything at all")
    response = api.get("/api/v1/cases", q=q)
    assert response.status_code in (200, 422), response.content


@pytest.mark.parametrize("rows", [3, 20])
def test_case_list_endpoint_q_query_count_does_not_grow(
    api: Any, team: Any, rows: int, django_assert_num_queries: Any
) -> None:
    CaseFactory.create_batch(rows, team=team, title="Missed callback")
    api.get("/api/v1/me")  # the token's last_used_at is written at most once a minute
    # token lookup, the search index read once (matches, then matches in the title or
    # customer, for the ranking), the page of matching cases
    with django_assert_num_queries(4):
        response = api.get("/api/v1/cases", q="callback")
    assert len(response.json()["items"]) == rows

"""Desk work over the API: bulk assign/close with a result per row, tags, merging duplicates,
canned replies and a customer's handling."""

from __future__ import annotations

from typing import Any

import pytest

from amends.accounts.choices import Role
from amends.accounts.tests.factories import TeamFactory, UserFactory
from amends.cases.choices import CaseEventKind, CaseStatus, Fault
from amends.cases.models import CannedReply, Case
from amends.cases.services.messages import case_message_add
from amends.cases.tests.factories import CaseFactory, case_in_status
from amends.customers.models import Customer, CustomerEvent
from amends.customers.tests.factories import CustomerFactory
from amends.taxonomy.tests.factories import CategoryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def team() -> Any:
    return TeamFactory(name="Billing")


@pytest.fixture
def agent(team: Any) -> Any:
    return UserFactory(role=Role.AGENT, team=team, username="alice", first_name="Alice")


@pytest.fixture
def supervisor(team: Any) -> Any:
    return UserFactory(role=Role.SUPERVISOR, team=team, username="sam")


@pytest.fixture
def api(api_client_for: Any, agent: Any) -> Any:
    return api_client_for(agent)


# ---- bulk -------------------------------------------------------------------------------------


def test_case_bulk_endpoint_assigns_each_row_and_reports_failures_per_row(
    api_client_for: Any, supervisor: Any, agent: Any, team: Any
) -> None:
    mine = [CaseFactory(team=team) for _ in range(2)]
    elsewhere = CaseFactory(team=TeamFactory(name="Network"))  # not the supervisor's team
    stale = CaseFactory(team=team)
    response = api_client_for(supervisor).post(
        "/api/v1/cases/bulk",
        {
            "action": "assign",
            "refs": [mine[0].ref, elsewhere.ref, mine[1].ref, "AM-999999", stale.ref],
            "versions": {stale.ref: stale.version + 5},
            "assignee": "alice",
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["done"], body["failed"]) == (2, 3)
    by_ref = {row["ref"]: row for row in body["results"]}
    assert by_ref[mine[0].ref]["ok"]
    assert by_ref[mine[1].ref]["ok"]
    assert by_ref[elsewhere.ref]["code"] == "not_found"  # invisible looks like missing
    assert by_ref["AM-999999"]["code"] == "not_found"
    assert by_ref[stale.ref]["code"] == "stale_version"
    assert [r["ref"] for r in body["results"]] == [
        mine[0].ref,
        elsewhere.ref,
        mine[1].ref,
        "AM-999999",
        stale.ref,
    ]
    for case in mine:
        case.refresh_from_db()
        assert case.assignee == agent
        assert case.events.filter(kind=CaseEventKind.ASSIGNED).exists()
    stale.refresh_from_db()
    assert stale.assignee is None


def test_case_bulk_endpoint_closes_resolved_cases_and_refuses_open_ones(
    api: Any, agent: Any, team: Any
) -> None:
    resolved = case_in_status(CaseStatus.RESOLVED, actor=agent, team=team, fault=Fault.CUSTOMER)
    resolved.steps.update(state="done")
    still_open = case_in_status(CaseStatus.IN_RECOVERY, actor=agent, team=team)
    response = api.post(
        "/api/v1/cases/bulk", {"action": "close", "refs": [resolved.ref, still_open.ref]}
    )
    body = response.json()
    assert (body["done"], body["failed"]) == (1, 1)
    assert body["results"][1]["code"] == "illegal_transition"
    resolved.refresh_from_db()
    assert resolved.status == CaseStatus.CLOSED


@pytest.mark.parametrize(
    "payload",
    [
        {"action": "close", "refs": []},
        {"action": "explode", "refs": ["AM-000001"]},
        {"action": "close", "refs": ["AM-1"] * 101},
        {"action": "assign", "refs": ["AM-000001"], "team_id": 0},
    ],
)
def test_case_bulk_endpoint_refuses_bad_input_with_422(api: Any, payload: dict[str, Any]) -> None:
    assert api.post("/api/v1/cases/bulk", payload).status_code == 422


# ---- tags ---------------------------------------------------------------------------------------


def test_case_tags_endpoints_add_remove_filter_and_audit(api: Any, team: Any) -> None:
    case = CaseFactory(team=team)
    other = CaseFactory(team=team)
    response = api.post(f"/api/v1/cases/{case.ref}/tags", {"add": ["Refund Pending", "press"]})
    assert response.status_code == 200, response.content
    assert response.json()["tags"] == ["press", "refund-pending"]
    listed = api.get("/api/v1/cases?tag=refund-pending").json()["items"]
    assert [c["ref"] for c in listed] == [case.ref]
    assert other.ref not in [c["ref"] for c in listed]
    response = api.post(f"/api/v1/cases/{case.ref}/tags", {"remove": ["press"]})
    assert response.json()["tags"] == ["refund-pending"]
    events = list(case.events.filter(kind=CaseEventKind.TAGGED).order_by("id"))
    assert [(e.data["added"], e.data["removed"]) for e in events] == [
        (["press", "refund-pending"], []),
        ([], ["press"]),
    ]
    assert api.get("/api/v1/tags").json()["items"] == [
        {"name": "press"},
        {"name": "refund-pending"},
    ]


def test_case_tags_endpoint_refuses_a_bad_tag(api: Any, team: Any) -> None:
    case = CaseFactory(team=team)
    response = api.post(f"/api/v1/cases/{case.ref}/tags", {"add": ["<script>"]})
    assert (response.status_code, response.json()["code"]) == (422, "invalid_tag")
    assert not case.tags.exists()


# ---- merge --------------------------------------------------------------------------------------


def test_case_merge_endpoint_keeps_the_history_on_the_survivor(
    api: Any, agent: Any, team: Any
) -> None:
    customer = CustomerFactory()
    survivor = CaseFactory(team=team, customer=customer, title="Double charge")
    duplicate = CaseFactory(team=team, customer=customer, title="Double charge (again)")
    case_message_add(case=duplicate, direction="inbound", body="Any news?", actor=None)
    api.post(f"/api/v1/cases/{duplicate.ref}/tags", {"add": ["billing"]})
    duplicate_events = duplicate.events.count()
    survivor_events = survivor.events.count()

    response = api.post(
        f"/api/v1/cases/{duplicate.ref}/merge",
        {"into": survivor.ref, "reason": "Same double charge reported twice"},
    )
    assert response.status_code == 200, response.content
    assert response.json()["into"] == survivor.ref

    duplicate.refresh_from_db()
    assert (duplicate.status, duplicate.merged_into) == (CaseStatus.CLOSED, survivor)
    assert duplicate.sla_due_at is None
    assert survivor.messages.filter(body="Any news?").exists()
    assert list(survivor.tags.values_list("name", flat=True)) == ["billing"]
    # The duplicate's timeline moved over and both record the merge.
    assert survivor.events.count() == survivor_events + duplicate_events + 1
    assert survivor.events.get(kind=CaseEventKind.MERGED_FROM).data["from"] == duplicate.ref
    assert duplicate.events.get(kind=CaseEventKind.MERGED_INTO).data["into"] == survivor.ref
    # A merged case cannot be merged again or reopened.
    again = api.post(f"/api/v1/cases/{duplicate.ref}/merge", {"into": survivor.ref})
    assert again.status_code == 409
    reopen = api.post(f"/api/v1/cases/{duplicate.ref}/reopen", {"version": duplicate.version})
    assert (reopen.status_code, reopen.json()["code"]) == (409, "case_merged")


def test_case_merge_endpoint_refuses_other_customers_and_itself(api: Any, team: Any) -> None:
    one = CaseFactory(team=team)
    other = CaseFactory(team=team)
    response = api.post(f"/api/v1/cases/{one.ref}/merge", {"into": other.ref})
    assert (response.status_code, response.json()["code"]) == (409, "different_customers")
    response = api.post(f"/api/v1/cases/{one.ref}/merge", {"into": one.ref})
    assert response.status_code == 409
    one.refresh_from_db()
    assert one.merged_into is None


def test_case_merge_endpoint_cannot_reach_a_case_the_user_cannot_see(api: Any, team: Any) -> None:
    customer = CustomerFactory()
    mine = CaseFactory(team=team, customer=customer)
    hidden = CaseFactory(team=TeamFactory(name="Network"), customer=customer)
    response = api.post(f"/api/v1/cases/{mine.ref}/merge", {"into": hidden.ref})
    assert response.status_code == 404
    assert Case.objects.filter(merged_into__isnull=False).count() == 0


# ---- canned replies -----------------------------------------------------------------------------


def test_case_canned_replies_endpoint_fills_placeholders_and_reports_unknown_ones(
    api: Any, agent: Any, team: Any
) -> None:
    billing = CategoryFactory(name="Billing")
    overcharge = CategoryFactory(name="Overcharge", parent=billing)
    case = CaseFactory(team=team, category=overcharge, customer=CustomerFactory(name="Ada Lee"))
    CannedReply.objects.create(
        name="Sorry (billing)",
        category=billing,
        body="Dear {customer_first_name}, about {case_ref}: I'm sorry. {agent_name} {oops}",
    )
    CannedReply.objects.create(
        name="Network only", category=CategoryFactory(name="Network"), body="x"
    )
    CannedReply.objects.create(name="Retired", body="old", active=False)
    replies = api.get(f"/api/v1/cases/{case.ref}/canned-replies").json()
    assert [r["name"] for r in replies] == ["Sorry (billing)"]
    assert replies[0]["body"] == (
        f"Dear Ada, about {case.ref}: I'm sorry. {agent.get_full_name()} {{oops}}"
    )
    assert replies[0]["unknown_placeholders"] == ["oops"]
    page = api.get("/api/v1/canned-replies").json()
    assert [r["name"] for r in page["items"]] == ["Network only", "Sorry (billing)"]
    assert "{customer_first_name}" in page["items"][1]["body"]


# ---- a customer's handling ----------------------------------------------------------------------


def test_customer_handling_endpoint_is_for_supervisors_and_audited(
    api: Any, api_client_for: Any, supervisor: Any
) -> None:
    customer = CustomerFactory()
    url = f"/api/v1/customers/{customer.pk}/handling"
    body = {"tier": "vip", "special_handling": True, "special_handling_reason": "Bereaved"}
    assert api.put(url, body).status_code == 403
    response = api_client_for(supervisor).put(url, body)
    assert response.status_code == 200, response.content
    customer = Customer.objects.get(pk=customer.pk)
    assert (customer.tier, customer.special_handling) == ("vip", True)
    change = CustomerEvent.objects.get(customer=customer)
    assert change.actor == supervisor
    assert change.data["tier"] == {"from": "standard", "to": "vip"}
    history = api.get(f"/api/v1/customers/{customer.pk}/history").json()
    assert history[0]["actor"] == "sam"
    no_reason = {"tier": "vip", "special_handling": True, "special_handling_reason": " "}
    other = CustomerFactory()
    response = api_client_for(supervisor).put(f"/api/v1/customers/{other.pk}/handling", no_reason)
    assert (response.status_code, response.json()["code"]) == (
        422,
        "special_handling_reason_required",
    )

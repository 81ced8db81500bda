"""The cases API through the real URL stack with bearer tokens: the contract in issue 2."""

from __future__ import annotations

from typing import Any

import pytest

from amends.accounts.choices import Role
from amends.accounts.tests.factories import TeamFactory, UserFactory
from amends.cases.choices import CaseStatus
from amends.cases.models import Case, Message
from amends.cases.services.workflow import case_acknowledge
from amends.cases.tests.factories import CaseFactory, case_in_status, steps_complete
from amends.customers.models import Customer
from amends.customers.tests.factories import CustomerFactory
from amends.taxonomy.tests.factories import CategoryFactory

pytestmark = pytest.mark.django_db

CONTRACT_BODY = {
    "customer": {"external_ref": "C-1", "name": "Ada Lee", "email": "ada@example.com"},
    "title": "Broadband down for a week",
    "description": "No connection since Monday.",
    "expected": "A working line within a day",
    "delivered": "Seven days without service",
    "channel": "api",
    "severity": 2,
}


@pytest.fixture
def team() -> Any:
    return TeamFactory(name="Billing")


@pytest.fixture
def agent(team: Any) -> Any:
    return UserFactory(role=Role.AGENT, team=team, username="alice")


@pytest.fixture
def api(api_client_for: Any, agent: Any) -> Any:
    return api_client_for(agent)


def assert_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "detail"}
    assert isinstance(body["message"], str)
    assert body["message"]
    assert isinstance(body["detail"], dict)
    if code is not None:
        assert body["code"] == code
    return body


def create(api: Any, **overrides: Any) -> dict[str, Any]:
    response = api.post("/api/v1/cases", {**CONTRACT_BODY, **overrides})
    assert response.status_code == 201, response.content
    return response.json()


# ---- create -----------------------------------------------------------------------------


def test_case_create_endpoint_answers_the_contract(api: Any) -> None:
    response = api.post("/api/v1/cases", CONTRACT_BODY)
    assert response.status_code == 201
    body = response.json()
    case = Case.objects.get()
    assert body["ref"] == case.ref
    assert body["status"] == "new"
    assert body["version"] == 1
    assert body["title"] == CONTRACT_BODY["title"]
    assert body["expected"] == CONTRACT_BODY["expected"]
    assert body["delivered"] == CONTRACT_BODY["delivered"]
    assert body["channel"] == "api"
    assert body["severity"] == 2
    assert body["customer"]["external_ref"] == "C-1"
    assert body["customer"]["name"] == "Ada Lee"
    assert body["steps"][0] == {
        "step": "acknowledge",
        "required": True,
        "state": "pending",
        "actor": None,
        "at": None,
        "note": "",
        "skip_reason": "",
    }
    assert [s["step"] for s in body["steps"]] == list(
        case.steps.order_by("position").values_list("step", flat=True)
    )
    assert all({"step", "required", "state"} <= set(s) for s in body["steps"])
    sla = body["sla"]
    assert sla["state"] == "on_track"
    assert sla["due_at"] is not None
    assert sla["acknowledge_due_at"] == sla["due_at"]
    assert sla["resolve_due_at"] is not None
    assert sla["paused"] is False
    assert case.created_by.username == "alice"


def test_case_create_endpoint_same_external_ref_reuses_customer(api: Any) -> None:
    first = create(api)
    second = create(api, customer={"external_ref": "C-1", "name": "Ada L."})
    assert first["customer"]["id"] == second["customer"]["id"]
    assert Customer.objects.count() == 1
    assert Customer.objects.get().name == "Ada Lee"


def test_case_create_endpoint_by_customer_id(api: Any) -> None:
    customer = CustomerFactory()
    body = create(api, customer=None, customer_id=customer.pk)
    assert body["customer"]["id"] == customer.pk


def test_case_create_endpoint_customer_without_ref_is_created(api: Any) -> None:
    body = create(api, customer={"name": "Walk-in"})
    assert body["customer"]["external_ref"] is None
    assert Customer.objects.get().name == "Walk-in"


def test_case_create_endpoint_with_category_team_and_assignee(api: Any, team: Any) -> None:
    category = CategoryFactory(name="Overcharge", parent=CategoryFactory(name="Billing"))
    body = create(api, category_id=category.pk, team_id=team.pk, assignee="alice")
    assert body["category"] == "Billing › Overcharge"
    assert body["team"] == "Billing"
    assert body["assignee"] == "alice"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"severity": 5}, "severity"),
        ({"severity": 0}, "severity"),
        ({"severity": "high"}, "severity"),
        ({"channel": "carrier_pigeon"}, "channel"),
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"customer": None}, "request"),
        ({"customer_id": 1}, "request"),
        ({"customer": {"external_ref": "C-9"}}, "customer.name"),
        ({"title": "Bad\x00byte"}, "title"),
    ],
)
def test_case_create_endpoint_refuses_invalid_input(
    api: Any, overrides: dict[str, Any], field: str
) -> None:
    body = assert_error(
        api.post("/api/v1/cases", {**CONTRACT_BODY, **overrides}), 422, "invalid_input"
    )
    assert field in body["detail"]
    assert not Case.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"customer": None, "customer_id": 10**9}, "customer_id"),
        ({"category_id": 10**9}, "category_id"),
        ({"team_id": 10**9}, "team_id"),
        ({"assignee": "nobody"}, "assignee"),
        ({"customer": {"name": "Ada", "email": "not-an-email"}}, "email"),
        ({"customer": {"name": "Ada", "special_handling": True}}, "special_handling_reason"),
    ],
)
def test_case_create_endpoint_refuses_unknown_references(
    api: Any, overrides: dict[str, Any], field: str
) -> None:
    body = assert_error(api.post("/api/v1/cases", {**CONTRACT_BODY, **overrides}), 422)
    assert field in body["detail"]
    assert not Case.objects.exists()
    assert not Customer.objects.exists()


def test_case_create_endpoint_refuses_malformed_json(api: Any) -> None:
    response = api.client.post("/api/v1/cases", "{not json", content_type="application/json")
    assert response.status_code in (400, 422)
    assert set(response.json()) == {"code", "message", "detail"}


# ---- read -------------------------------------------------------------------------------


def test_case_get_endpoint_returns_case(api: Any, team: Any) -> None:
    case = CaseFactory(team=team)
    response = api.get(f"/api/v1/cases/{case.ref}")
    assert response.status_code == 200
    assert response.json()["ref"] == case.ref
    assert api.get(f"/api/v1/cases/{case.pk}").json()["ref"] == case.ref


@pytest.mark.parametrize(
    "ref", ["AM-999999", "garbage", "AM-", "-1", "99999999999999999999999", "AM-%00", "%20"]
)
def test_case_get_endpoint_unknown_or_garbage_ref_is_404(api: Any, ref: str) -> None:
    assert_error(api.get(f"/api/v1/cases/{ref}"), 404, "not_found")


def test_case_endpoints_hide_other_teams_cases(api: Any) -> None:
    case = CaseFactory(team=TeamFactory(name="Network"))
    assert_error(api.get(f"/api/v1/cases/{case.ref}"), 404, "not_found")
    assert_error(api.post(f"/api/v1/cases/{case.ref}/acknowledge", {"version": 1}), 404)
    assert_error(api.get(f"/api/v1/cases/{case.ref}/timeline"), 404)
    assert_error(api.get(f"/api/v1/cases/{case.ref}/messages"), 404)
    assert_error(
        api.post(f"/api/v1/cases/{case.ref}/messages", {"direction": "internal", "body": "x"}),
        404,
    )
    assert_error(api.patch(f"/api/v1/cases/{case.ref}", {"version": 1, "title": "x"}), 404)
    case.refresh_from_db()
    assert (case.status, case.version) == (CaseStatus.NEW, 1)


def test_case_timeline_endpoint_lists_events(api: Any, agent: Any, team: Any) -> None:
    case = CaseFactory(team=team)
    case_acknowledge(case=case, version=1, actor=agent)
    events = api.get(f"/api/v1/cases/{case.ref}/timeline").json()
    assert [(e["kind"], e["actor"]) for e in events] == [
        ("created", None),
        ("acknowledged", "alice"),
    ]
    assert events[1]["data"]["status"] == {"from": "new", "to": "acknowledged"}


# ---- actions ----------------------------------------------------------------------------


def test_case_full_recovery_through_the_api(api: Any) -> None:
    case = create(api)
    ref = case["ref"]
    r = api.post(f"/api/v1/cases/{ref}/acknowledge", {"version": 1, "note": "Called"})
    assert r.status_code == 200
    body = r.json()
    assert (body["status"], body["version"], body["assignee"]) == ("acknowledged", 2, "alice")
    assert body["steps"][0]["state"] == "done"
    assert body["steps"][0]["actor"] == "alice"

    r = api.post(f"/api/v1/cases/{ref}/steps/apologise/done", {"version": 2, "note": "Sorry"})
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "in_recovery"
    assert next(s for s in body["steps"] if s["step"] == "apologise")["note"] == "Sorry"

    r = api.post(f"/api/v1/cases/{ref}/resolve", {"version": 3, "outcome": "upheld"})
    err = assert_error(r, 409, "required_steps_pending")
    # The follow-up is due before closing, not before resolving.
    assert err["detail"] == {"missing_steps": ["rectify"]}

    r = api.post(f"/api/v1/cases/{ref}/steps/rectify/done", {"version": 3})
    assert r.json()["version"] == 4
    r = api.post(
        f"/api/v1/cases/{ref}/steps/follow_up/skip", {"version": 4, "reason": "Customer declined"}
    )
    assert r.status_code == 200
    step = next(s for s in r.json()["steps"] if s["step"] == "follow_up")
    assert (step["state"], step["skip_reason"]) == ("skipped", "Customer declined")

    r = api.post(f"/api/v1/cases/{ref}/resolve", {"version": 5, "outcome": "partly_upheld"})
    err = assert_error(r, 422, "fault_undetermined")
    assert "confirm_undetermined" in err["detail"]
    r = api.post(
        f"/api/v1/cases/{ref}/resolve",
        {"version": 5, "outcome": "partly_upheld", "confirm_undetermined": True},
    )
    assert r.status_code == 200
    body = r.json()
    assert (body["status"], body["outcome"], body["sla"]["state"]) == (
        "resolved",
        "partly_upheld",
        "met",
    )
    assert body["sla"]["due_at"] is None

    r = api.post(f"/api/v1/cases/{ref}/close", {"version": 6})
    assert (r.status_code, r.json()["status"]) == (200, "closed")
    r = api.post(f"/api/v1/cases/{ref}/reopen", {"version": 7, "reason": "Broke again"})
    assert r.status_code == 200
    body = r.json()
    assert (body["status"], body["outcome"], body["version"]) == ("in_recovery", "", 8)
    assert body["reopened_at"] is not None


def test_case_await_customer_and_resume_endpoints(api: Any, agent: Any, team: Any) -> None:
    case = case_in_status(CaseStatus.IN_RECOVERY, actor=agent, team=team)
    r = api.post(f"/api/v1/cases/{case.ref}/await-customer", {"version": case.version})
    assert r.status_code == 200
    body = r.json()
    assert (body["status"], body["sla"]["state"], body["sla"]["paused"]) == (
        "awaiting_customer",
        "paused",
        True,
    )
    r = api.post(f"/api/v1/cases/{case.ref}/resume", {"version": body["version"]})
    assert (r.status_code, r.json()["status"]) == (200, "in_recovery")


def test_case_messages_endpoints(api: Any, agent: Any, team: Any) -> None:
    case = case_in_status(CaseStatus.IN_RECOVERY, actor=agent, team=team)
    r = api.post(
        f"/api/v1/cases/{case.ref}/messages",
        {
            "direction": "outbound",
            "body": "Could you send a photo?",
            "version": case.version,
            "awaiting_customer": True,
        },
    )
    assert r.status_code == 201
    message = r.json()
    assert (message["direction"], message["author"], message["body"]) == (
        "outbound",
        "alice",
        "Could you send a photo?",
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.AWAITING_CUSTOMER
    r = api.post(
        f"/api/v1/cases/{case.ref}/messages", {"direction": "inbound", "body": "Here you are"}
    )
    assert r.status_code == 201
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_RECOVERY
    listed = api.get(f"/api/v1/cases/{case.ref}/messages").json()
    assert [m["body"] for m in listed] == ["Could you send a photo?", "Here you are"]


def test_case_assign_endpoint(api: Any, agent: Any, team: Any) -> None:
    case = CaseFactory(team=team)
    r = api.post(f"/api/v1/cases/{case.ref}/assign", {"version": 1, "assignee": "alice"})
    assert r.status_code == 200
    assert (r.json()["assignee"], r.json()["version"]) == ("alice", 2)


def test_case_assign_endpoint_agent_cannot_assign_colleague(api: Any, team: Any) -> None:
    UserFactory(role=Role.AGENT, team=team, username="bob")
    case = CaseFactory(team=team)
    assert_error(
        api.post(f"/api/v1/cases/{case.ref}/assign", {"version": 1, "assignee": "bob"}),
        403,
        "forbidden",
    )
    case.refresh_from_db()
    assert (case.assignee, case.version) == (None, 1)


def test_case_assign_endpoint_supervisor_assigns_colleague(api_client_for: Any, team: Any) -> None:
    supervisor = UserFactory(role=Role.SUPERVISOR, team=team)
    UserFactory(role=Role.AGENT, team=team, username="bob")
    case = CaseFactory(team=team)
    r = api_client_for(supervisor).post(
        f"/api/v1/cases/{case.ref}/assign", {"version": 1, "assignee": "bob"}
    )
    assert (r.status_code, r.json()["assignee"]) == (200, "bob")


def test_case_update_endpoint_patches_fields(api: Any, team: Any) -> None:
    case = CaseFactory(team=team, severity=3)
    category = CategoryFactory(name="Delivery")
    r = api.patch(
        f"/api/v1/cases/{case.ref}",
        {"version": 1, "title": "New title", "severity": 1, "category_id": category.pk},
    )
    assert r.status_code == 200
    body = r.json()
    assert (body["title"], body["severity"], body["category"], body["version"]) == (
        "New title",
        1,
        "Delivery",
        2,
    )
    r = api.patch(f"/api/v1/cases/{case.ref}", {"version": 2, "category_id": None})
    assert r.json()["category"] is None


# ---- refused actions --------------------------------------------------------------------


def test_action_with_stale_version_is_409_and_changes_nothing(api: Any, team: Any) -> None:
    case = CaseFactory(team=team)
    before = Case.objects.values().get(pk=case.pk)
    body = assert_error(
        api.post(f"/api/v1/cases/{case.ref}/acknowledge", {"version": 5}), 409, "stale_version"
    )
    assert body["detail"] == {"your_version": 5, "current_version": 1}
    assert Case.objects.values().get(pk=case.pk) == before
    assert case.events.count() == 1
    assert_error(
        api.patch(f"/api/v1/cases/{case.ref}", {"version": 2, "title": "Lost update"}),
        409,
        "stale_version",
    )
    assert Case.objects.values().get(pk=case.pk) == before


def test_message_with_stale_version_is_409_and_not_stored(api: Any, team: Any) -> None:
    case = CaseFactory(team=team)
    assert_error(
        api.post(
            f"/api/v1/cases/{case.ref}/messages",
            {"direction": "internal", "body": "x", "version": 4},
        ),
        409,
        "stale_version",
    )
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    ("status", "action", "payload"),
    [
        ("new", "close", {}),
        ("new", "resolve", {"outcome": "upheld"}),
        ("new", "resume", {}),
        ("new", "reopen", {}),
        ("acknowledged", "acknowledge", {}),
        ("resolved", "await-customer", {}),
        ("closed", "close", {}),
        ("closed", "resume", {}),
    ],
)
def test_illegal_transition_is_409_and_changes_nothing(
    api: Any, agent: Any, team: Any, status: str, action: str, payload: dict[str, Any]
) -> None:
    case = case_in_status(status, actor=agent, team=team)
    version = case.version
    body = assert_error(
        api.post(f"/api/v1/cases/{case.ref}/{action}", {"version": version, **payload}),
        409,
        "illegal_transition",
    )
    assert body["message"]
    case.refresh_from_db()
    assert (case.status, case.version) == (status, version)


def test_step_actions_refused_with_409(api: Any, agent: Any, team: Any) -> None:
    case = CaseFactory(team=team)
    assert_error(
        api.post(f"/api/v1/cases/{case.ref}/steps/apologise/done", {"version": 1}),
        409,
        "not_acknowledged",
    )
    assert_error(
        api.post(
            f"/api/v1/cases/{case.ref}/steps/acknowledge/skip", {"version": 1, "reason": "busy"}
        ),
        409,
        "step_not_skippable",
    )
    case = case_acknowledge(case=case, version=1, actor=agent)
    assert_error(
        api.post(f"/api/v1/cases/{case.ref}/steps/acknowledge/done", {"version": 2}),
        409,
        "step_not_pending",
    )


@pytest.mark.parametrize(
    ("path", "payload", "field"),
    [
        ("acknowledge", {}, "version"),
        ("acknowledge", {"version": 0}, "version"),
        ("acknowledge", {"version": "two"}, "version"),
        ("steps/dance/done", {"version": 2}, "step"),
        ("steps/apologise/skip", {"version": 2}, "reason"),
        ("steps/apologise/skip", {"version": 2, "reason": ""}, "reason"),
        ("resolve", {"version": 2, "outcome": "delighted"}, "outcome"),
        ("messages", {"direction": "sideways", "body": "x"}, "direction"),
        ("messages", {"direction": "internal", "body": ""}, "body"),
        ("messages", {"direction": "internal", "body": "nul\x00"}, "body"),
        ("assign", {"version": 2, "assignee": "ghost"}, "assignee"),
        ("assign", {"version": 2, "team_id": 10**12}, "team_id"),
    ],
)
def test_invalid_action_input_is_422(
    api: Any, agent: Any, team: Any, path: str, payload: dict[str, Any], field: str
) -> None:
    case = case_in_status(CaseStatus.ACKNOWLEDGED, actor=agent, team=team)
    body = assert_error(api.post(f"/api/v1/cases/{case.ref}/{path}", payload), 422)
    assert field in body["detail"]
    case.refresh_from_db()
    assert case.version == 2


def test_not_upheld_without_explanation_is_422(api: Any, agent: Any, team: Any) -> None:
    case = case_in_status(CaseStatus.IN_RECOVERY, actor=agent, team=team)
    steps_complete(case)
    body = assert_error(
        api.post(
            f"/api/v1/cases/{case.ref}/resolve", {"version": case.version, "outcome": "not_upheld"}
        ),
        422,
        "explanation_required",
    )
    assert "explanation" in body["detail"]
    r = api.post(
        f"/api/v1/cases/{case.ref}/resolve",
        {
            "version": case.version,
            "outcome": "not_upheld",
            "explanation": "Delivered as agreed",
            "confirm_undetermined": True,
        },
    )
    assert (r.status_code, r.json()["outcome_explanation"]) == (200, "Delivered as agreed")


def test_skip_with_blank_reason_is_422(api: Any, agent: Any, team: Any) -> None:
    case = case_in_status(CaseStatus.IN_RECOVERY, actor=agent, team=team)
    body = assert_error(
        api.post(
            f"/api/v1/cases/{case.ref}/steps/compensate/skip",
            {"version": case.version, "reason": "   "},
        ),
        422,
        "skip_reason_required",
    )
    assert "reason" in body["detail"]


# ---- list -------------------------------------------------------------------------------


def test_case_list_endpoint_filters(api: Any, agent: Any, team: Any) -> None:
    billing = CategoryFactory(name="Billing")
    overcharge = CategoryFactory(name="Overcharge", parent=billing)
    customer = CustomerFactory()
    a = CaseFactory(team=team, severity=1, category=overcharge, customer=customer)
    b = case_in_status(CaseStatus.ACKNOWLEDGED, actor=agent, team=team, severity=2)
    c = case_in_status(CaseStatus.RESOLVED, actor=agent, team=team, severity=2)
    CaseFactory(team=TeamFactory(name="Network"))  # invisible to alice

    def refs(**params: Any) -> list[str]:
        response = api.get("/api/v1/cases", **params)
        assert response.status_code == 200, response.content
        return sorted(item["ref"] for item in response.json()["items"])

    assert refs() == sorted([a.ref, b.ref, c.ref])
    assert refs(status="new") == [a.ref]
    assert refs(status="resolved") == [c.ref]
    assert refs(team_id=team.pk) == sorted([a.ref, b.ref, c.ref])
    assert refs(assignee="me") == sorted([b.ref, c.ref])
    assert refs(assignee="alice") == sorted([b.ref, c.ref])
    assert refs(unassigned="true") == [a.ref]
    assert refs(category_id=billing.pk) == [a.ref]
    assert refs(severity=2) == sorted([b.ref, c.ref])
    assert refs(customer_id=customer.pk) == [a.ref]
    assert refs(sla="on_track") == sorted([a.ref, b.ref])
    assert refs(sla="breached") == []
    assert refs(open="true") == sorted([a.ref, b.ref])


def test_case_list_endpoint_paginates(api: Any, team: Any) -> None:
    cases = [CaseFactory(team=team) for _ in range(5)]
    first = api.get("/api/v1/cases", size=2).json()
    assert (first["page"], first["size"], first["has_next"]) == (1, 2, True)
    last = api.get("/api/v1/cases", size=2, page=3).json()
    assert (len(last["items"]), last["has_next"]) == (1, False)
    seen = {
        item["ref"]
        for page in (1, 2, 3)
        for item in api.get("/api/v1/cases", size=2, page=page).json()["items"]
    }
    assert seen == {c.ref for c in cases}
    item = first["items"][0]
    assert {"ref", "status", "version", "sla", "customer"} <= set(item)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"size": 201}, "size"),
        ({"size": 0}, "size"),
        ({"page": 0}, "page"),
        ({"status": "lost"}, "status"),
        ({"sla": "late"}, "sla"),
        ({"severity": 9}, "severity"),
        ({"team_id": "x"}, "team_id"),
        ({"assignee": "ghost"}, "assignee"),
        ({"assignee": "a\x00b"}, "assignee"),
    ],
)
def test_case_list_endpoint_invalid_filters_are_422(
    api: Any, params: dict[str, Any], field: str
) -> None:
    body = assert_error(api.get("/api/v1/cases", **params), 422)
    assert field in body["detail"]


# ---- query counts -----------------------------------------------------------------------


def _seed(rows: int, team: Any, agent: Any) -> Case:
    category = CategoryFactory(name="Overcharge", parent=CategoryFactory(name="Billing"))
    case = None
    for _ in range(rows):
        case = CaseFactory(team=team, category=category)
        case = case_acknowledge(case=case, version=1, actor=agent)
    assert case is not None
    return case


@pytest.mark.parametrize("rows", [3, 20])
def test_case_list_endpoint_query_count_does_not_grow(
    api: Any, agent: Any, team: Any, rows: int, django_assert_num_queries: Any
) -> None:
    _seed(rows, team, agent)
    api.get("/api/v1/me")  # the token's last_used_at is written at most once a minute
    # token lookup, the page of cases (customer, team, assignee, category joined)
    with django_assert_num_queries(2):
        response = api.get("/api/v1/cases", size=25)
    assert len(response.json()["items"]) == rows


@pytest.mark.parametrize("rows", [3, 20])
def test_case_get_endpoint_query_count_does_not_grow(
    api: Any, agent: Any, team: Any, rows: int, django_assert_num_queries: Any
) -> None:
    case = _seed(rows, team, agent)
    for _ in range(rows):
        api.post(f"/api/v1/cases/{case.ref}/messages", {"direction": "internal", "body": "x"})
    api.get("/api/v1/me")
    # token lookup, the case with its relations, its steps with their actors, its insight
    with django_assert_num_queries(4):
        response = api.get(f"/api/v1/cases/{case.ref}")
    assert response.json()["category"] == "Billing › Overcharge"


def test_case_create_endpoint_agent_cannot_give_case_to_colleague(api: Any, team: Any) -> None:
    UserFactory(role=Role.AGENT, team=team, username="bob")
    assert_error(api.post("/api/v1/cases", {**CONTRACT_BODY, "assignee": "bob"}), 403, "forbidden")
    assert not Case.objects.exists()
    assert not Customer.objects.exists()


def test_case_create_endpoint_refuses_lone_surrogates(api: Any) -> None:
    raw = '{"customer_id": 1, "title": "Broken \\ud800 text"}'
    response = api.client.post("/api/v1/cases", raw, content_type="application/json")
    body = assert_error(response, 422, "invalid_input")
    assert "title" in body["detail"]


def test_unsupported_method_is_405(api: Any, team: Any) -> None:
    case = CaseFactory(team=team)
    response = api.client.delete(f"/api/v1/cases/{case.ref}")
    assert response.status_code == 405
    assert Case.objects.filter(pk=case.pk).exists()


@pytest.mark.parametrize("param", ["team_id", "category_id", "customer_id"])
def test_case_list_endpoint_rejects_an_id_too_large_for_the_database(
    api_client_for: Any, agent: Any, param: str
) -> None:
    api = api_client_for(agent)

    response = api.get("/api/v1/cases", **{param: "99999999999999999999"})

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_input"
    assert param in body["detail"]


def test_case_create_endpoint_rejects_an_id_too_large_for_the_database(
    api_client_for: Any, agent: Any
) -> None:
    api = api_client_for(agent)

    response = api.post("/api/v1/cases", {**CONTRACT_BODY, "category_id": 2**64})

    assert response.status_code == 422
    assert "category_id" in response.json()["detail"]
    assert not Case.objects.exists()

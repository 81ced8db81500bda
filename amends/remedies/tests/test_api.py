"""The remedies REST API (amends/api/remedies.py): contract, errors, visibility."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine

from amends.accounts.choices import Role
from amends.cases.models import CaseEvent
from amends.cases.services.workflow import case_resolve, case_step_skip
from amends.remedies.choices import RemedyStatus
from amends.remedies.models import AuthorityRule, Remedy
from amends.remedies.services.remedies import remedy_propose
from amends.remedies.tests.factories import CannotDoItemFactory

pytestmark = pytest.mark.django_db


def body(**extra):
    return {
        "kind": "refund",
        "amount": "80.00",
        "currency": "USD",
        "reason": "Broadband down for a week",
        **extra,
    }


def remedy_events():
    return CaseEvent.objects.filter(kind__startswith="remedy_").count()


@time_machine.travel(datetime(2026, 3, 2, 10, 0, tzinfo=UTC), tick=False)
def test_remedy_propose_endpoint_answers_201_with_approver_and_due_time(org, api_client_for):
    api = api_client_for(org.agent)
    r = api.post(f"/api/v1/cases/{org.case.ref}/remedies", body())
    assert r.status_code == 201, r.json()
    data = r.json()
    assert data["status"] == "pending_approval"
    assert data["approver"] == "sam"
    assert data["decision_due_at"].startswith("2026-03-02T14:00:00")
    assert data["amount"] == "80.00"
    assert Remedy.objects.get(pk=data["id"]).status == RemedyStatus.PENDING_APPROVAL


def test_remedy_propose_endpoint_grants_within_authority(org, api_client_for):
    r = api_client_for(org.agent).post(
        f"/api/v1/cases/{org.case.ref}/remedies", body(amount="20.00")
    )
    assert r.status_code == 201
    assert r.json()["status"] == "granted"
    assert r.json()["approver"] is None


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        (body(amount="0"), 422, "invalid_amount"),
        (body(amount="-10.00"), 422, "invalid_amount"),
        (body(amount="ten"), 422, "invalid_input"),
        (body(kind="teleport"), 422, "unknown_kind"),
        (body(currency="XXX"), 422, "unknown_currency"),
        (body(currency="USDOLLAR"), 422, "invalid_input"),
        (body(reason=""), 422, "invalid_input"),
        (body(amount="5000.00"), 409, "no_authority"),
    ],
)
def test_remedy_propose_endpoint_bad_input_writes_nothing(
    org, api_client_for, payload, status, code
):
    events = remedy_events()
    r = api_client_for(org.agent).post(f"/api/v1/cases/{org.case.ref}/remedies", payload)
    assert r.status_code == status, r.json()
    assert r.json()["code"] == code
    assert set(r.json()) == {"code", "message", "detail"}
    assert not Remedy.objects.exists()
    assert remedy_events() == events


def test_remedy_propose_endpoint_refuses_closed_case(org, api_client_for):
    for step in ("apologise", "rectify", "follow_up"):
        case_step_skip(case=org.case, step=step, reason="n/a", version=None, actor=org.agent)
    case_resolve(
        case=org.case, outcome="upheld", version=None, actor=org.agent, confirm_undetermined=True
    )
    r = api_client_for(org.agent).post(f"/api/v1/cases/{org.case.ref}/remedies", body())
    assert r.status_code == 409
    assert r.json()["code"] == "case_not_open"
    assert not Remedy.objects.exists()


def test_remedy_propose_endpoint_404_for_a_case_not_visible(org, api_client_for):
    from amends.accounts.tests.factories import UserFactory

    outsider = UserFactory(team=org.other_team)
    r = api_client_for(outsider).post(f"/api/v1/cases/{org.case.ref}/remedies", body())
    assert r.status_code == 404
    assert not Remedy.objects.exists()


def test_approval_endpoints_approve_reject_self_twice_and_above_authority(org, api_client_for):
    api_agent = api_client_for(org.agent)
    api_sup = api_client_for(org.supervisor)
    first = api_agent.post(f"/api/v1/cases/{org.case.ref}/remedies", body()).json()
    # Listed for the approver, not for the proposer.
    assert [i["id"] for i in api_sup.get("/api/v1/approvals").json()["items"]] == [first["id"]]
    assert api_agent.get("/api/v1/approvals").json()["items"] == []
    # The proposer cannot approve their own request.
    r = api_agent.post(f"/api/v1/approvals/{first['id']}/approve", {"reason": "me"})
    assert r.status_code == 403
    r = api_sup.post(f"/api/v1/approvals/{first['id']}/approve", {"reason": "Fair"})
    assert r.status_code == 200
    assert r.json()["status"] == "approved"
    assert r.json()["decided_by"] == "sam"
    # Deciding twice.
    r = api_sup.post(f"/api/v1/approvals/{first['id']}/reject", {"reason": "Oops"})
    assert r.status_code == 409
    assert r.json()["code"] == "already_decided"
    assert Remedy.objects.get(pk=first["id"]).status == RemedyStatus.APPROVED
    # Approving above one's own authority (the manager is above sam, but 300 > 200 for sam).
    big = remedy_propose(
        case=org.case, kind="refund", amount="150.00", currency="USD", reason="r", actor=org.agent
    )
    Remedy.objects.filter(pk=big.pk).update(amount="300.00")
    r = api_sup.post(f"/api/v1/approvals/{big.pk}/approve", {})
    assert r.status_code == 403
    assert r.json()["code"] == "above_authority"
    assert Remedy.objects.get(pk=big.pk).status == RemedyStatus.PENDING_APPROVAL
    r = api_sup.post(f"/api/v1/approvals/{big.pk}/reject", {"reason": "Too much"})
    assert r.json()["status"] == "rejected"


def test_approval_list_endpoint_sorted_by_due_with_fixed_query_count(
    org, api_client_for, django_assert_num_queries
):
    for hour, amount in ((12, "60.00"), (9, "70.00"), (10, "75.00")):
        with time_machine.travel(datetime(2026, 3, 2, hour, 0, tzinfo=UTC), tick=False):
            remedy_propose(
                case=org.case,
                kind="refund",
                amount=amount,
                currency="USD",
                reason="r",
                actor=org.agent,
            )
    api = api_client_for(org.supervisor)
    api.get("/api/v1/approvals")
    # token lookup, token touch is throttled, staff profile is joined; then the page
    with django_assert_num_queries(2):
        r = api.get("/api/v1/approvals", size=2)
    data = r.json()
    assert [i["amount"] for i in data["items"]] == ["70.00", "75.00"]
    assert data["has_next"] is True
    assert [i["amount"] for i in api.get("/api/v1/approvals", size=2, page=2).json()["items"]] == [
        "60.00"
    ]


def test_remedy_issue_and_cancel_endpoints(org, api_client_for):
    api = api_client_for(org.agent)
    granted = api.post(f"/api/v1/cases/{org.case.ref}/remedies", body(amount="10.00")).json()
    r = api.post(f"/api/v1/remedies/{granted['id']}/issue", {"reference": ""})
    assert r.status_code == 422
    r = api.post(f"/api/v1/remedies/{granted['id']}/issue", {"reference": "CN-100"})
    assert r.status_code == 200
    assert r.json()["status"] == "issued"
    assert r.json()["issue_reference"] == "CN-100"
    r = api.post(f"/api/v1/remedies/{granted['id']}/cancel", {"reason": "late"})
    assert r.status_code == 409
    other = api.post(f"/api/v1/cases/{org.case.ref}/remedies", body(amount="10.00")).json()
    r = api.post(f"/api/v1/remedies/{other['id']}/cancel", {"reason": "Duplicate"})
    assert r.json()["status"] == "cancelled"
    listed = api.get(f"/api/v1/cases/{org.case.ref}/remedies").json()
    assert [x["status"] for x in listed] == ["issued", "cancelled"]


def test_remedy_get_endpoint_visible_to_the_approver_outside_the_case_team(org, api_client_for):
    remedy = remedy_propose(
        case=org.case, kind="refund", amount="150.00", currency="USD", reason="r", actor=org.agent
    )
    assert remedy.approver == org.supervisor
    # The approver moves to another team while the request waits: it stays theirs to decide.
    org.supervisor.staff.team = org.other_team
    org.supervisor.staff.save()
    r = api_client_for(org.supervisor).get(f"/api/v1/remedies/{remedy.pk}")
    assert r.status_code == 200
    r = api_client_for(org.supervisor).post(f"/api/v1/approvals/{remedy.pk}/approve", {})
    assert r.status_code == 200


def test_authority_mine_endpoint(org, api_client_for):
    CannotDoItemFactory(role="agent", text="Waive an early-termination fee")
    api = api_client_for(org.agent)
    api.post(f"/api/v1/cases/{org.case.ref}/remedies", body(amount="25.00"))
    data = api.get("/api/v1/me/authority").json()
    assert data["role"] == "agent"
    refund = next(k for k in data["limits"] if k["kind"] == "refund")
    assert refund["source"] == "role"
    assert refund["max_per_remedy"] == "50.00"
    assert refund["max_per_customer"] == "150.00"
    assert refund["period_days"] == 30
    assert refund["used"] == [{"currency": "USD", "total": "25.00", "count": 1}]
    voucher = next(k for k in data["limits"] if k["kind"] == "voucher")
    assert voucher["allowed"] is False
    assert voucher["source"] == "none"
    assert data["cannot_do"] == ["Waive an early-termination fee"]


def test_remedy_headroom_endpoint(org, api_client_for):
    api = api_client_for(org.agent)
    api.post(f"/api/v1/cases/{org.case.ref}/remedies", body(amount="40.00"))
    r = api.get(f"/api/v1/cases/{org.case.ref}/remedies/headroom", kind="refund", currency="USD")
    assert r.json() == {"kind": "refund", "currency": "USD", "allowed": True, "remaining": "50.00"}
    r = api.get(f"/api/v1/cases/{org.case.ref}/remedies/headroom", kind="nope")
    assert r.status_code == 422


def test_menu_endpoints_offer_and_choose(org, api_client_for):
    api = api_client_for(org.agent)
    r = api.post(
        f"/api/v1/cases/{org.case.ref}/remedy-menus",
        {
            "options": [
                {"kind": "refund", "amount": "40.00", "currency": "USD"},
                {"kind": "refund", "amount": "120.00", "currency": "USD", "description": "Bigger"},
            ],
            "note": "Pick one",
        },
    )
    assert r.status_code == 201, r.json()
    menu = r.json()
    assert [o["status"] for o in menu["options"]] == ["offered", "offered"]
    r = api.post(
        f"/api/v1/cases/{org.case.ref}/remedy-menus",
        {"options": [{"kind": "refund", "amount": "40.00", "currency": "USD"}]},
    )
    assert r.status_code == 422
    big = menu["options"][1]["id"]
    r = api.post(f"/api/v1/remedy-menus/{menu['id']}/choose", {"remedy_id": big})
    assert r.status_code == 200
    assert r.json()["status"] == "pending_approval"
    assert r.json()["approver"] == "sam"
    r = api.post(f"/api/v1/remedy-menus/{menu['id']}/choose", {"remedy_id": big})
    assert r.status_code == 409
    menus = api.get(f"/api/v1/cases/{org.case.ref}/remedy-menus").json()
    assert menus[0]["status"] == "chosen"
    assert sorted(o["status"] for o in menus[0]["options"]) == ["cancelled", "pending_approval"]


def test_remedy_report_endpoint(org, api_client_for):
    with time_machine.travel(datetime(2026, 3, 2, 10, 0, tzinfo=UTC), tick=False):
        api_client_for(org.agent).post(
            f"/api/v1/cases/{org.case.ref}/remedies", body(amount="20.00")
        )
        pending = remedy_propose(
            case=org.case,
            kind="refund",
            amount="60.00",
            currency="USD",
            reason="r",
            actor=org.agent,
        )
    with time_machine.travel(datetime(2026, 3, 2, 12, 0, tzinfo=UTC), tick=False):
        api_client_for(org.supervisor).post(f"/api/v1/approvals/{pending.pk}/approve", {})
    r = api_client_for(org.manager).get(
        "/api/v1/reports/remedies", since="2026-01-01T00:00:00Z", until="2026-12-31T00:00:00Z"
    )
    assert r.status_code == 200, r.json()
    data = r.json()
    assert data["by_team"] == [{"currency": "USD", "team": "Billing", "total": "80.00", "count": 2}]
    assert data["by_month"] == [
        {"currency": "USD", "month": "2026-03-01", "total": "80.00", "count": 2}
    ]
    assert data["within_authority"] == 1
    assert data["needed_approval"] == 1
    assert data["share_within_authority"] == 0.5
    assert data["median_decision_seconds"] == 7200
    assert api_client_for(org.agent).get("/api/v1/reports/remedies").status_code == 403


def test_openapi_document_lists_the_remedy_endpoints(org, api_client_for):
    paths = api_client_for(org.agent).get("/api/v1/openapi.json").json()["paths"]
    for path in (
        "/api/v1/cases/{ref}/remedies",
        "/api/v1/approvals",
        "/api/v1/approvals/{remedy_id}/approve",
        "/api/v1/approvals/{remedy_id}/reject",
        "/api/v1/remedies/{remedy_id}/issue",
        "/api/v1/remedies/{remedy_id}/cancel",
        "/api/v1/me/authority",
        "/api/v1/reports/remedies",
    ):
        assert path in paths


def test_remedy_propose_endpoint_query_count_is_fixed(
    org, api_client_for, django_assert_num_queries
):
    api = api_client_for(org.agent)
    api.post(f"/api/v1/cases/{org.case.ref}/remedies", body(amount="10.00"))
    # Above the limit, routing included: token, case, kind, customer lock, case re-read, my
    # rules, two sums, candidates, their rules, calendar, insert, event (+ savepoints); then
    # 8 for the remedy_changed subscribers of the floors above (loyalty, feedback, incidents,
    # webhooks), the same whatever the case holds.
    with django_assert_num_queries(22):
        r = api.post(f"/api/v1/cases/{org.case.ref}/remedies", body(amount="120.00"))
    assert r.status_code == 201
    assert r.json()["status"] == "pending_approval"
    # More remedies on the case and the customer change nothing.
    for amount in ("5.00", "6.00", "7.00"):
        api.post(f"/api/v1/cases/{org.case.ref}/remedies", body(amount=amount))
    with django_assert_num_queries(22):
        r = api.post(f"/api/v1/cases/{org.case.ref}/remedies", body(amount="130.00"))
    assert r.status_code == 201


def put(api, path, data):
    return api.client.put(path, data, content_type="application/json")


def test_authority_rule_endpoints_read_for_staff_and_write_for_admins(org, api_client_for):
    from amends.accounts.choices import Role
    from amends.accounts.tests.factories import UserFactory
    from amends.remedies.models import AuthorityChange, AuthorityRule

    rules = api_client_for(org.agent).get("/api/v1/authority/rules", role="agent").json()
    assert [(r["role"], r["kind"], r["max_per_remedy"]) for r in rules] == [
        ("agent", "refund", "50.00")
    ]
    payload = {"user": "alice", "kind": "refund", "max_per_remedy": "75.00"}
    r = put(api_client_for(org.manager), "/api/v1/authority/rules", payload)
    assert r.status_code == 403
    assert not AuthorityRule.objects.filter(user=org.agent).exists()
    admin = UserFactory(role=Role.ADMIN, team=None)
    r = put(api_client_for(admin), "/api/v1/authority/rules", payload)
    assert r.status_code == 200, r.json()
    assert r.json()["user"] == "alice"
    assert AuthorityChange.objects.get(source="api").actor == admin
    mine = api_client_for(org.agent).get("/api/v1/authority/rules", user="alice").json()
    assert {(r["user"], r["max_per_remedy"]) for r in mine} == {
        (None, "50.00"),
        ("alice", "75.00"),
    }
    r = put(api_client_for(admin), "/api/v1/authority/rules", {"role": "agent", "kind": "x"})
    assert r.status_code == 422


@pytest.mark.parametrize(("sent", "answered"), [("5", "5.00"), ("5.1", "5.10"), ("1e1", "10.00")])
def test_remedy_propose_endpoint_answers_and_logs_the_amount_with_two_decimals(
    org, api_client_for, sent, answered
):
    r = api_client_for(org.agent).post(f"/api/v1/cases/{org.case.ref}/remedies", body(amount=sent))
    assert r.status_code == 201, r.json()
    assert r.json()["amount"] == answered
    event = CaseEvent.objects.get(kind="remedy_granted")
    assert event.data["amount"] == answered


def test_remedy_approve_endpoint_above_authority_detail_has_money_with_two_decimals(
    org, api_client_for
):
    # The supervisor may grant 200 per remedy and 250 per case: 40 + 30.10 + 190 = 260.10.
    AuthorityRule.objects.filter(role=Role.SUPERVISOR).update(max_per_case=Decimal("250.00"))
    for amount in ("40.00", "30.10"):
        remedy_propose(
            case=org.case, kind="refund", amount=amount, currency="USD", reason="r",
            actor=org.agent,
        )  # fmt: skip
    big = remedy_propose(
        case=org.case, kind="refund", amount="150.00", currency="USD", reason="r", actor=org.agent
    )
    Remedy.objects.filter(pk=big.pk).update(amount="190.00")
    r = api_client_for(org.supervisor).post(f"/api/v1/approvals/{big.pk}/approve", {})
    assert r.status_code == 403
    assert r.json()["detail"]["breaches"] == [
        {"limit": "max_per_case", "allowed": "250.00", "would_be": "260.10"}
    ]

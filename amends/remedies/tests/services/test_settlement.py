"""Resolving or closing a case settles its approval requests (issue 17 contract)."""

from __future__ import annotations

from typing import Any

import pytest

from amends.cases.choices import CaseStatus, Outcome
from amends.cases.services.workflow import case_close, case_reopen, case_resolve
from amends.cases.tests.factories import steps_complete
from amends.remedies.choices import RemedyStatus
from amends.remedies.services.remedies import remedy_propose
from amends.remedies.services.settlement import remedies_settle_for_case

pytestmark = pytest.mark.django_db


def _propose(org: Any, amount: str) -> Any:
    return remedy_propose(
        case=org.case,
        kind="refund",
        amount=amount,
        currency="USD",
        reason="Charged twice",
        actor=org.agent,
    )


def _resolve(org: Any) -> Any:
    steps_complete(org.case)
    return case_resolve(
        case=org.case,
        outcome=Outcome.UPHELD,
        version=None,
        actor=org.agent,
        confirm_undetermined=True,
    )


def test_case_resolve_cancels_pending_approvals_with_the_reason_on_the_timeline(org: Any) -> None:
    granted = _propose(org, "20.00")
    waiting = _propose(org, "120.00")
    assert (waiting.status, granted.status) == (RemedyStatus.PENDING_APPROVAL, RemedyStatus.GRANTED)
    case = _resolve(org)
    waiting.refresh_from_db()
    granted.refresh_from_db()
    assert waiting.status == RemedyStatus.CANCELLED
    assert "resolved before a decision" in waiting.cancel_reason
    assert granted.status == RemedyStatus.GRANTED  # a promise to the customer stays
    event = case.events.get(kind="remedy_cancelled")
    assert event.actor == org.agent
    assert event.data["remedy_id"] == waiting.pk
    assert "resolved before a decision" in event.data["reason"]
    assert event.data["status"] == {"from": "pending_approval", "to": "cancelled"}


def test_case_resolve_leaves_nothing_for_the_approver(org: Any, api_client_for: Any) -> None:
    waiting = _propose(org, "120.00")
    approver = api_client_for(org.supervisor)
    listed = approver.get("/api/v1/approvals").json()["items"]
    assert [r["id"] for r in listed] == [waiting.pk]
    _resolve(org)
    assert approver.get("/api/v1/approvals").json()["items"] == []
    timeline = api_client_for(org.agent).get(f"/api/v1/cases/{org.case.ref}/timeline").json()
    cancelled = [e for e in timeline if e["kind"] == "remedy_cancelled"]
    assert len(cancelled) == 1
    assert "resolved before a decision" in cancelled[0]["data"]["reason"]


def test_case_resolve_through_the_api_settles_too(org: Any, api_client_for: Any) -> None:
    waiting = _propose(org, "120.00")
    steps_complete(org.case)
    org.case.refresh_from_db()
    response = api_client_for(org.agent).post(
        f"/api/v1/cases/{org.case.ref}/resolve",
        {"version": org.case.version, "outcome": "upheld", "confirm_undetermined": True},
    )
    assert response.status_code == 200, response.content
    waiting.refresh_from_db()
    assert waiting.status == RemedyStatus.CANCELLED
    assert api_client_for(org.supervisor).get("/api/v1/approvals").json()["items"] == []


def test_case_close_settles_a_request_made_after_resolving(org: Any) -> None:
    case = _resolve(org)
    case = case_reopen(case=case, version=None, actor=org.agent, reason="Customer called back")
    waiting = _propose(org, "120.00")
    steps_complete(case)
    case = case_resolve(
        case=case, outcome=Outcome.UPHELD, version=None, actor=org.agent, confirm_undetermined=True
    )
    waiting.refresh_from_db()
    assert waiting.status == RemedyStatus.CANCELLED
    case = case_close(case=case, version=None, actor=org.agent)
    assert case.status == CaseStatus.CLOSED
    assert case.events.filter(kind="remedy_cancelled").count() == 1  # nothing twice


def test_remedies_settle_for_case_is_idempotent(org: Any) -> None:
    _propose(org, "120.00")
    assert (
        remedies_settle_for_case(case_id=org.case.pk, status=CaseStatus.RESOLVED, actor=None) == 1
    )
    assert (
        remedies_settle_for_case(case_id=org.case.pk, status=CaseStatus.RESOLVED, actor=None) == 0
    )

"""Deciding many approvals at once: each row through the normal approval, a result per row."""

from __future__ import annotations

from typing import Any

import pytest

from amends.cases.tests.factories import CaseFactory
from amends.remedies.choices import RemedyStatus
from amends.remedies.models import Remedy
from amends.remedies.services.bulk import remedies_bulk_decide
from amends.remedies.services.remedies import remedy_propose

pytestmark = pytest.mark.django_db


def _waiting(org: Any, amount: str, case: Any = None) -> Remedy:
    remedy = remedy_propose(
        case=case or org.case,
        kind="refund",
        amount=amount,
        currency="USD",
        reason="Charged twice",
        actor=org.agent,
    )
    assert remedy.status == RemedyStatus.PENDING_APPROVAL
    return remedy


def test_remedies_bulk_decide_approves_each_row_and_reports_the_refused_ones(org: Any) -> None:
    # Two requests within the supervisor's authority, one above it, and one already decided.
    small = _waiting(org, "60.00")
    other_case = CaseFactory(team=org.team, assignee=org.agent)
    other = _waiting(org, "70.00", case=other_case)
    decided = _waiting(org, "80.00", case=CaseFactory(team=org.team, assignee=org.agent))
    remedies_bulk_decide(remedy_ids=[decided.pk], approve=False, reason="No", actor=org.supervisor)
    results = remedies_bulk_decide(
        remedy_ids=[small.pk, decided.pk, other.pk, 999_999],
        approve=True,
        reason="Fair",
        actor=org.supervisor,
    )
    assert [(r.ref, r.ok) for r in results] == [
        (str(small.pk), True),
        (str(decided.pk), False),
        (str(other.pk), True),
        ("999999", False),
    ]
    assert results[3].code == "not_found"
    assert results[1].error
    for remedy in (small, other):
        remedy.refresh_from_db()
        assert (remedy.status, remedy.decided_by) == (RemedyStatus.APPROVED, org.supervisor)


def test_approval_bulk_endpoint_answers_a_result_per_row(org: Any, api_client_for: Any) -> None:
    one, two = (
        _waiting(org, "60.00"),
        _waiting(org, "65.00", case=CaseFactory(team=org.team, assignee=org.agent)),
    )
    # The agent may not decide: every row is refused, none is approved.
    refused = api_client_for(org.agent).post(
        "/api/v1/approvals/bulk", {"action": "approve", "ids": [one.pk, two.pk]}
    )
    assert refused.status_code == 200
    assert refused.json()["failed"] == 2
    response = api_client_for(org.supervisor).post(
        "/api/v1/approvals/bulk", {"action": "approve", "ids": [one.pk, two.pk], "reason": "OK"}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["done"], body["failed"]) == (2, 0)
    assert [row["id"] for row in body["results"]] == [one.pk, two.pk]
    assert set(Remedy.objects.values_list("status", flat=True)) == {RemedyStatus.APPROVED}
    # The approvals list no longer shows them.
    listed = api_client_for(org.supervisor).get("/api/v1/approvals").json()
    assert listed["items"] == []

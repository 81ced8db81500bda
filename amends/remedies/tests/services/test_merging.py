"""Merging a duplicate case: its remedies follow to the surviving case."""

from __future__ import annotations

from typing import Any

import pytest

from amends.cases.services.merge import case_merge
from amends.cases.tests.factories import CaseFactory
from amends.remedies.choices import RemedyStatus
from amends.remedies.services.remedies import remedy_propose

pytestmark = pytest.mark.django_db


def test_case_merge_moves_remedies_to_the_survivor_still_pending(org: Any) -> None:
    remedy = remedy_propose(
        case=org.case,
        kind="refund",
        amount="70.00",
        currency="USD",
        reason="Charged twice",
        actor=org.agent,
    )
    survivor = CaseFactory(team=org.team, assignee=org.agent, customer=org.case.customer)
    case_merge(duplicate=org.case, survivor=survivor, actor=org.agent)
    remedy.refresh_from_db()
    assert (remedy.case_id, remedy.status) == (survivor.pk, RemedyStatus.PENDING_APPROVAL)

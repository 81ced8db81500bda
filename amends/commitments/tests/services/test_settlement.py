"""Resolving or closing a case settles its open escalations; promises stay (issue 17)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from amends.accounts.choices import Role
from amends.accounts.tests.factories import TeamFactory, UserFactory
from amends.cases.choices import Outcome
from amends.cases.services.workflow import case_acknowledge, case_resolve
from amends.cases.tests.factories import CaseFactory, steps_complete
from amends.commitments.choices import CommitmentStatus, EscalationStatus
from amends.commitments.services.commitments import commitment_create
from amends.commitments.services.escalations import escalation_decide, escalation_raise
from amends.commitments.services.settlement import escalations_settle_for_case

pytestmark = pytest.mark.django_db


def test_case_resolve_settles_open_escalations_and_keeps_promises() -> None:
    team = TeamFactory()
    UserFactory(role=Role.SUPERVISOR, team=team)
    agent = UserFactory(role=Role.AGENT, team=team, first_name="Alex", last_name="Agent")
    case = case_acknowledge(case=CaseFactory(team=team, assignee=agent), version=None, actor=agent)
    escalation = escalation_raise(case=case, level="supervisor", note="Angry VIP", actor=agent)
    promise = commitment_create(
        case=case,
        kind="callback",
        description="Call back on Friday",
        due_at=timezone.now() + timedelta(days=2),
        owner=agent,
        actor=agent,
    )
    steps_complete(case)
    case = case_resolve(
        case=case, outcome=Outcome.UPHELD, version=None, actor=agent, confirm_undetermined=True
    )
    escalation.refresh_from_db()
    promise.refresh_from_db()
    assert escalation.status == EscalationStatus.DECIDED
    assert (
        escalation.decision
        == "No decision needed: Alex Agent resolved the case before one was made."
    )
    assert escalation.decision_seconds is None  # not a decision: kept out of the measures
    assert escalation.decided_by == agent
    assert promise.status == CommitmentStatus.OPEN
    event = case.events.get(kind="escalation_decided")
    assert event.data["settled"] is True
    assert event.data["decision"] == escalation.decision


def test_escalations_settle_for_case_leaves_decided_ones_alone() -> None:
    supervisor = UserFactory(role=Role.SUPERVISOR)
    case = CaseFactory()
    escalation = escalation_raise(case=case, level="supervisor", note="x", actor=supervisor)
    escalation_decide(escalation=escalation, decision="Offer a visit", actor=supervisor)
    assert escalations_settle_for_case(case_id=case.pk, status="resolved", actor=None) == 0
    escalation.refresh_from_db()
    assert escalation.decision == "Offer a visit"

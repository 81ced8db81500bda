"""Merging a duplicate case: its promises and escalations follow to the surviving case."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from amends.accounts.choices import Role
from amends.accounts.tests.factories import TeamFactory, UserFactory
from amends.cases.services.merge import case_merge
from amends.cases.services.workflow import case_acknowledge
from amends.cases.tests.factories import CaseFactory
from amends.commitments.choices import CommitmentStatus
from amends.commitments.services.commitments import commitment_create
from amends.commitments.services.escalations import escalation_raise
from amends.customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_case_merge_moves_promises_and_escalations_to_the_survivor() -> None:
    team = TeamFactory()
    UserFactory(role=Role.SUPERVISOR, team=team)
    agent = UserFactory(role=Role.AGENT, team=team)
    customer = CustomerFactory()
    survivor = CaseFactory(team=team, assignee=agent, customer=customer)
    duplicate = case_acknowledge(
        case=CaseFactory(team=team, assignee=agent, customer=customer), version=None, actor=agent
    )
    escalation = escalation_raise(case=duplicate, level="supervisor", note="Angry", actor=agent)
    promise = commitment_create(
        case=duplicate,
        kind="callback",
        description="Call back on Friday",
        due_at=timezone.now() + timedelta(days=2),
        owner=agent,
        actor=agent,
    )
    case_merge(duplicate=duplicate, survivor=survivor, actor=agent)
    promise.refresh_from_db()
    escalation.refresh_from_db()
    assert (promise.case_id, promise.status) == (survivor.pk, CommitmentStatus.OPEN)
    assert escalation.case_id == survivor.pk

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from amends.accounts.choices import Role
from amends.accounts.tests.factories import TeamFactory, UserFactory
from amends.cases.tests.factories import CaseFactory
from amends.commitments.models import Escalation
from amends.commitments.services.escalations import (
    escalation_decide,
    escalation_open_automatic,
    escalation_raise,
)
from amends.core.exceptions import ApplicationError

pytestmark = pytest.mark.django_db


def test_escalation_raise_routes_to_team_supervisor_and_records_event() -> None:
    team = TeamFactory()
    supervisor = UserFactory(role=Role.SUPERVISOR, team=team)
    agent = UserFactory(team=team)
    case = CaseFactory(team=team, assignee=agent)
    escalation = escalation_raise(case=case, level="supervisor", note="Angry VIP", actor=agent)
    assert escalation.assignee == supervisor
    assert case.events.filter(kind="escalated", data__escalation=escalation.pk).exists()
    # The case's SLA clock keeps running: nothing paused.
    case.refresh_from_db()
    assert case.status == "new"


def test_escalation_raise_falls_back_to_manager_without_supervisor() -> None:
    manager = UserFactory(role=Role.MANAGER, team=None)
    agent = UserFactory(team=TeamFactory())
    escalation = escalation_raise(
        case=CaseFactory(team=agent.staff.team), level="supervisor", note="x", actor=agent
    )
    assert escalation.assignee == manager


def test_escalation_decide_refuses_second_decision() -> None:
    supervisor = UserFactory(role=Role.SUPERVISOR)
    escalation = escalation_raise(
        case=CaseFactory(), level="supervisor", note="x", actor=supervisor
    )
    escalation_decide(escalation=escalation, decision="Approve", actor=supervisor)
    with pytest.raises(ApplicationError) as err:
        escalation_decide(escalation=escalation, decision="Reject", actor=supervisor)
    assert err.value.code == "already_decided"
    escalation.refresh_from_db()
    assert escalation.decision == "Approve"


def test_escalation_decide_refuses_agent_who_is_not_assignee() -> None:
    UserFactory(role=Role.SUPERVISOR)
    agent = UserFactory()
    escalation = escalation_raise(case=CaseFactory(), level="manager", note="x", actor=agent)
    with pytest.raises(ApplicationError) as err:
        escalation_decide(escalation=escalation, decision="Fine", actor=agent)
    assert err.value.status == 403


def test_escalation_open_automatic_opens_once_per_reason() -> None:
    case = CaseFactory()
    first = escalation_open_automatic(case=case, reason="approval_overdue")
    assert first is not None
    assert escalation_open_automatic(case=case, reason="approval_overdue") is None
    # The database refuses a second open automatic one even if a caller skips the check.
    with pytest.raises(IntegrityError), transaction.atomic():
        Escalation.objects.create(
            case=case,
            level="supervisor",
            reason="approval_overdue",
            automatic=True,
            raised_at=first.raised_at,
            decision_due_at=first.decision_due_at,
        )


def test_escalation_raise_refuses_assignee_below_level() -> None:
    team = TeamFactory()
    agent = UserFactory(team=team)
    case = CaseFactory(team=team)
    with pytest.raises(ApplicationError) as error:
        # An agent cannot make themselves the decider of an executive escalation.
        escalation_raise(
            case=case, level="executive", note="Self-approve", actor=agent, assignee=agent
        )
    assert error.value.code == "invalid_assignee"
    assert error.value.status == 422
    assert not Escalation.objects.exists()
    assert not case.events.filter(kind="escalated").exists()


def test_escalation_raise_accepts_assignee_of_higher_level() -> None:
    team = TeamFactory()
    agent = UserFactory(team=team)
    manager = UserFactory(role=Role.MANAGER, team=None)
    escalation = escalation_raise(
        case=CaseFactory(team=team), level="supervisor", note="x", actor=agent, assignee=manager
    )
    assert escalation.assignee == manager


def test_escalation_decide_records_status_change_on_timeline() -> None:
    team = TeamFactory()
    supervisor = UserFactory(role=Role.SUPERVISOR, team=team)
    agent = UserFactory(team=team)
    case = CaseFactory(team=team)
    escalation = escalation_raise(case=case, level="supervisor", note="x", actor=agent)
    escalation_decide(escalation=escalation, decision="Approve the rebate", actor=supervisor)
    event = case.events.get(kind="escalation_decided")
    assert event.actor == supervisor
    assert event.data["status"] == {"from": "open", "to": "decided"}

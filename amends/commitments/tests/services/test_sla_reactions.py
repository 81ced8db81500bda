"""The SLA sweep (cases) and commitments' reaction: one escalation per breach, one notice per
at-risk moment, the same after the SLA is re-timed and after an upgrade."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.apps import apps

from amends.accounts.choices import Role
from amends.accounts.tests.factories import TeamFactory, UserFactory
from amends.cases.models import Case
from amends.cases.services.workflow import case_acknowledge, case_await_customer, case_update
from amends.cases.sweeps import sla_sweep
from amends.cases.tests.factories import CaseFactory
from amends.commitments.choices import EscalationReason, EscalationStatus, NotificationKind
from amends.commitments.models import Escalation, Notification
from amends.commitments.services.escalations import escalation_decide
from amends.core import hooks

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday


@pytest.fixture
def team_setup():
    team = TeamFactory()
    supervisor = UserFactory(role=Role.SUPERVISOR, team=team)
    manager = UserFactory(role=Role.MANAGER, team=None)
    agent = UserFactory(role=Role.AGENT, team=team)
    return team, supervisor, manager, agent


def _due(case: Case) -> datetime:
    due = Case.objects.get(pk=case.pk).sla_due_at
    assert due is not None
    return due


def _sweep(when: datetime) -> int:
    with time_machine.travel(when, tick=False):
        return sla_sweep(now=when)


def _sla_escalations(case: Case) -> list[Escalation]:
    return list(
        Escalation.objects.filter(case=case, reason=EscalationReason.SLA_BREACHED).order_by("id")
    )


def test_commitments_subscribes_to_the_sla_sweeps_hooks() -> None:
    from amends.commitments.services import reactions

    assert reactions.on_cases_sla_breached in hooks.cases_sla_breached.subscribers
    assert reactions.on_cases_sla_at_risk in hooks.cases_sla_at_risk.subscribers


def test_sla_sweep_escalates_breached_case_once_and_notifies(team_setup) -> None:
    team, supervisor, _, agent = team_setup
    with time_machine.travel(NOW, tick=False):
        case = CaseFactory(team=team, assignee=agent, severity=1)
    due = Case.objects.get(pk=case.pk).sla_due_at
    assert due is not None
    after = due + timedelta(minutes=1)
    with time_machine.travel(after, tick=False):
        assert sla_sweep(now=after) == 1
        assert sla_sweep(now=after + timedelta(minutes=1)) == 0
    escalation = Escalation.objects.get(case=case, reason=EscalationReason.SLA_BREACHED)
    assert escalation.assignee_id == supervisor.pk
    assert escalation.level == "supervisor"
    assert escalation.raised_at == after
    assert (
        Notification.objects.filter(recipient=agent, kind=NotificationKind.SLA_BREACHED).count()
        == 1
    )
    # Decided, the same breach does not escalate again.
    escalation_decide(escalation=escalation, decision="Refund approved", actor=supervisor)
    with time_machine.travel(after + timedelta(hours=1), tick=False):
        assert sla_sweep(now=after + timedelta(hours=1)) == 0


def test_sla_sweep_notifies_assignee_once_when_at_risk(team_setup) -> None:
    team, _, _, agent = team_setup
    with time_machine.travel(NOW, tick=False):
        case = CaseFactory(team=team, assignee=agent, severity=1)
    risk = Case.objects.get(pk=case.pk).sla_at_risk_at
    assert risk is not None
    at = risk + timedelta(seconds=30)
    with time_machine.travel(at, tick=False):
        assert sla_sweep(now=at) == 1
        assert sla_sweep(now=at) == 0
    notice = Notification.objects.get(recipient=agent, kind=NotificationKind.SLA_AT_RISK)
    assert notice.dedupe_key == f"sla_at_risk:{case.pk}:{risk:%Y%m%dT%H%M%S}"
    assert notice.case_id == case.pk
    assert not Escalation.objects.exists()


def test_sla_sweep_skips_case_awaiting_customer(team_setup) -> None:
    team, _, _, agent = team_setup
    with time_machine.travel(NOW, tick=False):
        case = CaseFactory(team=team, assignee=agent, severity=1)
        case = case_acknowledge(case=case, version=None, actor=agent)
        case_await_customer(case=case, version=None, actor=agent)
    later = NOW + timedelta(days=30)
    with time_machine.travel(later, tick=False):
        assert sla_sweep(now=later) == 0
    assert not Escalation.objects.exists()


def test_re_timed_sla_breached_again_after_a_decision_escalates_again(team_setup) -> None:
    team, supervisor, _, agent = team_setup
    with time_machine.travel(NOW, tick=False):
        case = CaseFactory(team=team, assignee=agent, severity=1)
    first_at = _due(case) + timedelta(minutes=1)
    _sweep(first_at)
    [first] = _sla_escalations(case)
    with time_machine.travel(first_at + timedelta(minutes=5), tick=False):
        escalation_decide(escalation=first, decision="Call the customer", actor=supervisor)
        case_update(case=Case.objects.get(pk=case.pk), version=None, actor=agent, severity=4)
    new_due = _due(case)
    assert new_due > first_at
    _sweep(new_due + timedelta(minutes=1))
    _sweep(new_due + timedelta(minutes=2))
    escalations = _sla_escalations(case)
    assert [e.raised_at for e in escalations] == [first_at, new_due + timedelta(minutes=1)]
    assert (
        Notification.objects.filter(recipient=agent, kind=NotificationKind.SLA_BREACHED).count()
        == 2
    )


def test_re_timed_sla_breached_while_its_escalation_is_open_waits_for_the_decision(
    team_setup,
) -> None:
    team, supervisor, _, agent = team_setup
    with time_machine.travel(NOW, tick=False):
        case = CaseFactory(team=team, assignee=agent, severity=1)
    first_at = _due(case) + timedelta(minutes=1)
    _sweep(first_at)
    with time_machine.travel(first_at + timedelta(minutes=5), tick=False):
        case_update(case=Case.objects.get(pk=case.pk), version=None, actor=agent, severity=4)
    new_due = _due(case)
    # The first escalation is still open: it covers the new breach, nothing more is raised.
    assert _sweep(new_due + timedelta(minutes=1)) == 0
    [first] = _sla_escalations(case)
    assert first.status == EscalationStatus.OPEN
    assert Case.objects.get(pk=case.pk).sla_breach_noted_at == first_at
    # Once it is decided, the breach of the re-timed clock is escalated on the next run.
    decided_at = new_due + timedelta(minutes=30)
    with time_machine.travel(decided_at, tick=False):
        escalation_decide(escalation=first, decision="Call the customer", actor=supervisor)
    assert _sweep(decided_at + timedelta(minutes=1)) == 1
    assert [e.raised_at for e in _sla_escalations(case)] == [
        first_at,
        decided_at + timedelta(minutes=1),
    ]


def test_upgrade_marks_what_was_already_announced_and_nothing_is_announced_twice(
    team_setup,
) -> None:
    team, supervisor, _, agent = team_setup
    with time_machine.travel(NOW, tick=False):
        breached = CaseFactory(team=team, assignee=agent, severity=1)
        re_timed = CaseFactory(team=team, assignee=agent, severity=1)
        risky = CaseFactory(team=team, assignee=agent, severity=2)
        untouched = CaseFactory(team=team, assignee=agent, severity=3)
    escalated_at = max(_due(breached), _due(re_timed)) + timedelta(minutes=1)
    _sweep(escalated_at)
    risky_case = Case.objects.get(pk=risky.pk)
    assert risky_case.sla_at_risk_at is not None
    announced_at = max(escalated_at, risky_case.sla_at_risk_at) + timedelta(seconds=30)
    assert announced_at < _due(risky)
    _sweep(announced_at)
    with time_machine.travel(announced_at + timedelta(minutes=1), tick=False):
        [first] = _sla_escalations(re_timed)
        escalation_decide(escalation=first, decision="Call the customer", actor=supervisor)
        case_update(case=Case.objects.get(pk=re_timed.pk), version=None, actor=agent, severity=4)
    notice = Notification.objects.get(kind=NotificationKind.SLA_AT_RISK, case=risky)
    # The database as it was before the markers existed.
    Case.objects.update(sla_breach_noted_at=None, sla_at_risk_noted_at=None)

    migration = importlib.import_module("amends.cases.migrations.0011_case_sla_sweep_markers")
    migration.markers_from_history(apps, None)

    marks = dict(Case.objects.values_list("pk", "sla_breach_noted_at"))
    assert marks[breached.pk] == escalated_at
    assert marks[re_timed.pk] == escalated_at
    assert marks[untouched.pk] is None
    assert Case.objects.get(pk=risky.pk).sla_at_risk_noted_at == notice.created_at
    # The next run announces nothing that was announced before the upgrade...
    before_re_timed_due = _due(re_timed) - timedelta(minutes=1)
    assert before_re_timed_due > announced_at
    _sweep(before_re_timed_due)
    assert len(_sla_escalations(breached)) == 1
    assert len(_sla_escalations(re_timed)) == 1
    assert Notification.objects.filter(kind=NotificationKind.SLA_AT_RISK, case=risky).count() == 1
    # ... and a clock re-timed after its escalation is still a fresh breach when it runs out.
    _sweep(_due(re_timed) + timedelta(minutes=1))
    assert len(_sla_escalations(re_timed)) == 2
    assert len(_sla_escalations(breached)) == 1

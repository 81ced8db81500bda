from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.test import override_settings

from amends.accounts.choices import Role
from amends.accounts.tests.factories import TeamFactory, UserFactory
from amends.cases.models import Case
from amends.cases.tests.factories import CaseFactory
from amends.commitments.choices import CommitmentStatus, EscalationReason, NotificationKind
from amends.commitments.models import Commitment, Escalation, Notification
from amends.commitments.sweeps import commitment_sweep, escalation_sweep
from amends.commitments.tests.factories import CommitmentFactory
from amends.core.sweeps import sweeps_run

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday


@pytest.fixture
def team_setup():
    team = TeamFactory()
    supervisor = UserFactory(role=Role.SUPERVISOR, team=team)
    manager = UserFactory(role=Role.MANAGER, team=None)
    agent = UserFactory(role=Role.AGENT, team=team)
    return team, supervisor, manager, agent


def test_commitment_sweep_reminds_owner_once_within_lead_time(team_setup) -> None:
    _, _, _, agent = team_setup
    with time_machine.travel(NOW, tick=False):
        promise = CommitmentFactory(owner=agent, due_at=NOW + timedelta(minutes=90))
        assert commitment_sweep(now=NOW) == 0  # 90 min away: outside the 60 min lead
    later = NOW + timedelta(minutes=40)
    with time_machine.travel(later, tick=False):
        assert commitment_sweep(now=later) == 1
        assert commitment_sweep(now=later + timedelta(minutes=5)) == 0
    promise.refresh_from_db()
    assert promise.reminder_sent_at == later
    reminders = Notification.objects.filter(kind=NotificationKind.COMMITMENT_REMINDER)
    assert [n.recipient_id for n in reminders] == [agent.pk]


def test_commitment_sweep_breaks_overdue_promise_as_second_failure(team_setup) -> None:
    team, supervisor, _, agent = team_setup
    with time_machine.travel(NOW, tick=False):
        case = CaseFactory(team=team, assignee=agent, severity=3)
        promise = CommitmentFactory(case=case, owner=agent, due_at=NOW + timedelta(hours=2))
        sla_before = Case.objects.get(pk=case.pk).sla_due_at
    after = NOW + timedelta(hours=3)
    with time_machine.travel(after, tick=False):
        assert commitment_sweep(now=after) == 1
        assert commitment_sweep(now=after) == 0  # idempotent
    promise.refresh_from_db()
    assert promise.status == CommitmentStatus.BROKEN
    assert promise.broken_at == after
    case.refresh_from_db()
    assert case.double_deviation is True
    assert case.severity == 2
    assert case.sla_due_at != sla_before  # re-timed for the higher severity
    kinds = set(case.events.values_list("kind", flat=True))
    assert {"commitment_broken", "double_deviation", "updated", "escalated"} <= kinds
    # Timeline data are JSON objects the case page can read.
    assert case.events.filter(kind="escalated", data__reason="broken_promise").exists()
    assert case.events.get(kind="commitment_broken").data["status"] == {
        "from": "open",
        "to": "broken",
    }
    assert case.events.get(kind="updated", data__cause="broken_promise").data["severity"] == {
        "from": 3,
        "to": 2,
    }
    escalation = Escalation.objects.get(case=case)
    assert escalation.reason == EscalationReason.BROKEN_PROMISE
    assert escalation.assignee_id == supervisor.pk
    broken_to = set(
        Notification.objects.filter(kind=NotificationKind.COMMITMENT_BROKEN).values_list(
            "recipient_id", flat=True
        )
    )
    assert broken_to == {agent.pk, supervisor.pk}


def test_escalation_sweep_bumps_overdue_escalation_one_level_once(team_setup) -> None:
    team, _supervisor, manager, agent = team_setup
    with time_machine.travel(NOW, tick=False):
        case = CaseFactory(team=team, assignee=agent)
        CommitmentFactory(case=case, owner=agent, due_at=NOW + timedelta(minutes=30))
    t1 = NOW + timedelta(hours=1)
    with time_machine.travel(t1, tick=False):
        commitment_sweep(now=t1)
    escalation = Escalation.objects.get(case=case)
    assert escalation.level == "supervisor"
    # Supervisors have 4 business hours (the default calendar is always open).
    t2 = t1 + timedelta(hours=4, minutes=1)
    with time_machine.travel(t2, tick=False):
        assert escalation_sweep(now=t2) == 1
        assert escalation_sweep(now=t2) == 0
    escalation.refresh_from_db()
    assert escalation.level == "manager"
    assert escalation.assignee_id == manager.pk
    assert escalation.bumps == 1
    assert escalation.decision_due_at == t2 + timedelta(hours=8)
    assert (
        Notification.objects.filter(
            recipient=manager, kind=NotificationKind.ESCALATION_ASSIGNED
        ).count()
        == 1
    )


def test_sweeps_run_runs_every_configured_sweep(team_setup) -> None:
    _, _, _, agent = team_setup
    with time_machine.travel(NOW, tick=False):
        CommitmentFactory(owner=agent, due_at=NOW + timedelta(minutes=10))
    later = NOW + timedelta(minutes=20)
    with (
        override_settings(
            AMENDS_SWEEPS=[
                "amends.commitments.sweeps.commitment_sweep",
                "amends.commitments.sweeps.escalation_sweep",
                "amends.nowhere.sweeps.missing_sweep",
            ]
        ),
        time_machine.travel(later, tick=False),
    ):
        results = sweeps_run(now=later)
    assert results == {
        "amends.commitments.sweeps.commitment_sweep": 1,
        "amends.commitments.sweeps.escalation_sweep": 0,
    }
    assert Commitment.objects.get().status == CommitmentStatus.BROKEN


def test_commitment_sweep_emails_each_notification_once(
    team_setup, django_capture_on_commit_callbacks
) -> None:
    _, _, _, agent = team_setup
    with time_machine.travel(NOW, tick=False):
        CommitmentFactory(owner=agent, due_at=NOW + timedelta(minutes=10))
    later = NOW + timedelta(minutes=20)
    with time_machine.travel(later, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            commitment_sweep(now=later)
        with django_capture_on_commit_callbacks(execute=True):
            commitment_sweep(now=later)
            from amends.commitments.tasks import notifications_email_send

            notifications_email_send.enqueue()
    to_agent = [m for m in mail.outbox if m.to == [agent.email]]
    assert len(to_agent) == 1
    assert "broken" in to_agent[0].body
    assert Notification.objects.get(recipient=agent).emailed_at is not None

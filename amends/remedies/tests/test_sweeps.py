from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command

from amends.cases.models import CaseEvent
from amends.core import hooks
from amends.core.testing import hook_recorded
from amends.remedies.choices import RemedyEventKind, RemedyStatus
from amends.remedies.models import Remedy
from amends.remedies.services.remedies import remedy_approve, remedy_propose
from amends.remedies.sweeps import approval_sweep

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday; no calendar: 24x7


def pending(org, amount="150.00"):
    with time_machine.travel(START, tick=False):
        return remedy_propose(
            case=org.case, kind="refund", amount=amount, currency="USD", reason="r", actor=org.agent
        )


def test_approval_sweep_leaves_approvals_that_are_not_yet_due(org):
    remedy = pending(org)
    assert approval_sweep(now=START + timedelta(hours=3, minutes=59)) == 0
    assert Remedy.objects.get(pk=remedy.pk).approver == org.supervisor


def test_approval_sweep_escalates_overdue_one_level_up_once(org):
    remedy = pending(org)
    later = START + timedelta(hours=5)
    with time_machine.travel(later, tick=False):
        assert approval_sweep(now=later) == 1
        assert approval_sweep(now=later) == 0  # idempotent
    remedy.refresh_from_db()
    assert remedy.status == RemedyStatus.PENDING_APPROVAL
    assert remedy.approver == org.manager
    assert remedy.escalation_level == 1
    assert remedy.decision_due_at == later + timedelta(hours=4)
    events = CaseEvent.objects.filter(case=org.case, kind=RemedyEventKind.ESCALATED)
    assert events.count() == 1
    assert events.get().data["approver"] == {"from": "sam", "to": "maria"}
    # The new approver can decide; the old one no longer can.
    with pytest.raises(Exception, match="assigned approver"):
        remedy_approve(remedy=remedy, reason="", actor=org.supervisor)
    assert remedy_approve(remedy=remedy, reason="", actor=org.manager).status == "approved"


def test_approval_sweep_flags_once_when_no_one_above_can_approve(org):
    remedy = pending(org, amount="500.00")  # already with the manager
    assert remedy.approver == org.manager
    later = START + timedelta(hours=5)
    assert approval_sweep(now=later) == 0
    assert approval_sweep(now=later + timedelta(hours=1)) == 0
    remedy.refresh_from_db()
    assert remedy.approver == org.manager
    assert remedy.escalation_exhausted is True
    assert CaseEvent.objects.filter(case=org.case, kind=RemedyEventKind.OVERDUE).count() == 1


def test_approval_sweep_skips_decided_remedies(org):
    remedy = pending(org)
    remedy_approve(remedy=remedy, reason="", actor=org.supervisor)
    assert approval_sweep(now=START + timedelta(days=1)) == 0
    assert not CaseEvent.objects.filter(kind=RemedyEventKind.ESCALATED).exists()


def test_remedy_sweep_command_runs_the_sweep(org, capsys):
    pending(org)
    with time_machine.travel(START + timedelta(hours=5), tick=False):
        call_command("remedy_sweep")
    assert "Escalated 1 overdue approval" in capsys.readouterr().out
    assert Remedy.objects.get().approver == org.manager


def test_approval_sweep_announces_the_overdue_approval(org):
    with hook_recorded(hooks.remedy_approval_overdue) as seen:
        remedy = pending(org)
        later = START + timedelta(hours=5)
        with time_machine.travel(later, tick=False):
            approval_sweep(now=later)
    assert [(p.remedy_id, p.case_id, p.now) for p in seen] == [(remedy.pk, org.case.pk, later)]


def test_approval_sweep_leaves_approvals_on_closed_cases_alone(org):
    from amends.cases.models import Case

    remedy = pending(org)
    Case.objects.filter(pk=org.case.pk).update(
        status="closed", sla_due_at=None, sla_at_risk_at=None, outcome="upheld"
    )
    later = START + timedelta(hours=5)
    with time_machine.travel(later, tick=False):
        assert approval_sweep(now=later) == 0
    remedy.refresh_from_db()
    assert remedy.approver == org.supervisor
    assert remedy.escalation_level == 0

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from amends.accounts.choices import Role
from amends.accounts.tests.factories import TeamFactory, UserFactory
from amends.cases.tests.factories import CaseFactory
from amends.commitments.choices import EscalationReason, RuleAppliesTo
from amends.commitments.models import Escalation, Notification
from amends.commitments.tests.factories import EscalationRuleFactory
from amends.customers.tests.factories import CustomerFactory
from amends.policies.choices import Audience
from amends.policies.models import Playbook

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def test_escalation_rules_apply_sends_special_handling_complaint_to_manager() -> None:
    manager = UserFactory(role=Role.MANAGER, team=None)
    EscalationRuleFactory(
        applies_to=RuleAppliesTo.SPECIAL_HANDLING, level="manager", decision_minutes=120
    )
    customer = CustomerFactory(special_handling=True, special_handling_reason="Bereavement")
    with time_machine.travel(NOW, tick=False):
        case = CaseFactory(customer=customer)
    escalation = Escalation.objects.get(case=case)
    assert escalation.reason == EscalationReason.SPECIAL_HANDLING
    assert escalation.level == "manager"
    assert escalation.assignee == manager
    assert escalation.decision_due_at == NOW + timedelta(hours=2)
    assert "Bereavement" in escalation.note
    assert Notification.objects.filter(recipient=manager).count() == 1


def test_escalation_rules_apply_ignores_standard_customer() -> None:
    UserFactory(role=Role.MANAGER)
    EscalationRuleFactory(applies_to=RuleAppliesTo.SPECIAL_HANDLING)
    EscalationRuleFactory(applies_to=RuleAppliesTo.VIP)
    CaseFactory()
    assert not Escalation.objects.exists()


def test_escalation_rules_apply_escalates_third_complaint_in_90_days() -> None:
    supervisor = UserFactory(role=Role.SUPERVISOR, team=TeamFactory())
    EscalationRuleFactory(
        applies_to=RuleAppliesTo.REPEAT_COMPLAINT,
        level="supervisor",
        repeat_count=3,
        repeat_window_days=90,
    )
    customer = CustomerFactory()
    with time_machine.travel(NOW - timedelta(days=100), tick=False):
        CaseFactory(customer=customer, team=supervisor.staff.team)  # outside the window
    with time_machine.travel(NOW - timedelta(days=30), tick=False):
        CaseFactory(customer=customer, team=supervisor.staff.team)
    with time_machine.travel(NOW, tick=False):
        second = CaseFactory(customer=customer, team=supervisor.staff.team)
        assert not Escalation.objects.filter(case=second).exists()
        third = CaseFactory(customer=customer, team=supervisor.staff.team)
    escalation = Escalation.objects.get(case=third)
    assert escalation.reason == EscalationReason.REPEAT_COMPLAINT
    assert escalation.assignee == supervisor


def test_case_create_uses_vip_playbook_for_vip_customer() -> None:
    Playbook.objects.create(name="Standard", is_default=True)
    vip_playbook = Playbook.objects.create(name="VIP care", audience=Audience.VIP)
    vip = CustomerFactory(tier="vip")
    assert CaseFactory(customer=vip).playbook == vip_playbook
    assert CaseFactory().playbook.name == "Standard"


def test_escalation_rules_are_read_once_and_a_saved_rule_applies_at_once() -> None:
    UserFactory(role=Role.MANAGER, team=None)
    special = CustomerFactory(special_handling=True, special_handling_reason="Bereavement")
    CaseFactory()  # the first case of the process reads the rules (none yet)
    with CaptureQueriesContext(connection) as queries:
        case = CaseFactory(customer=special)
    assert not [q for q in queries.captured_queries if "commitments_escalationrule" in q["sql"]]
    assert not Escalation.objects.filter(case=case).exists()
    # Saving a rule clears this process's copy: the next case is escalated.
    rule = EscalationRuleFactory(applies_to=RuleAppliesTo.SPECIAL_HANDLING, level="manager")
    case = CaseFactory(customer=special)
    assert Escalation.objects.get(case=case).reason == EscalationReason.SPECIAL_HANDLING
    # And switching it off stops it at once.
    rule.active = False
    rule.save()
    case = CaseFactory(customer=special)
    assert not Escalation.objects.filter(case=case).exists()

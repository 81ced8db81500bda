"""Escalation rules on cases opened set-based (imports): the same rules, one pass per batch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine

from amends.accounts.choices import Role
from amends.accounts.tests.factories import UserFactory
from amends.cases.choices import CaseStatus, Outcome
from amends.cases.services.batch import NewCase, cases_open_many
from amends.cases.tests.factories import CaseFactory
from amends.commitments.choices import EscalationReason, RuleAppliesTo
from amends.commitments.models import Escalation
from amends.commitments.services.bulk_rules import escalation_rules_apply_many
from amends.commitments.tests.factories import EscalationRuleFactory
from amends.customers.choices import CustomerTier
from amends.customers.models import Customer
from amends.customers.services import CustomerKey
from amends.customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def _key(customer: Customer) -> CustomerKey:
    return CustomerKey(customer.pk, customer.tier, customer.special_handling)


def test_imported_open_cases_are_escalated_by_the_rules_after_commit(
    django_capture_on_commit_callbacks: Any,
) -> None:
    manager = UserFactory(role=Role.MANAGER, team=None)
    EscalationRuleFactory(applies_to=RuleAppliesTo.SPECIAL_HANDLING, level="manager")
    EscalationRuleFactory(applies_to=RuleAppliesTo.VIP, level="supervisor")
    special = CustomerFactory(special_handling=True, special_handling_reason="Bereavement")
    vip = CustomerFactory(tier=CustomerTier.VIP)
    plain = CustomerFactory()
    with (
        time_machine.travel(NOW, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        ids = cases_open_many(
            specs=[
                NewCase(customer=_key(special), title="S"),
                NewCase(customer=_key(vip), title="V"),
                NewCase(customer=_key(plain), title="P"),
                NewCase(
                    customer=_key(special),
                    title="Closed long ago",
                    created_at=NOW - timedelta(days=900),
                    status=CaseStatus.CLOSED,
                    outcome=Outcome.UPHELD,
                ),
            ]
        )
    escalations = {e.case_id: e for e in Escalation.objects.all()}
    assert set(escalations) == {ids[0], ids[1]}  # not the plain one, not the closed one
    assert escalations[ids[0]].level == "manager"
    assert escalations[ids[0]].assignee == manager
    assert "Bereavement" in escalations[ids[0]].note
    assert escalations[ids[1]].reason == EscalationReason.SPECIAL_HANDLING
    assert escalations[ids[1]].level == "supervisor"


def test_repeat_rule_counts_the_customers_cases_in_the_window_once_per_batch(
    django_assert_max_num_queries: Any,
) -> None:
    UserFactory(role=Role.SUPERVISOR)
    EscalationRuleFactory(
        applies_to=RuleAppliesTo.REPEAT_COMPLAINT, repeat_count=3, repeat_window_days=90
    )
    often = CustomerFactory()
    once = CustomerFactory()
    with time_machine.travel(NOW - timedelta(days=100), tick=False):
        CaseFactory(customer=often)  # outside the window
    with time_machine.travel(NOW - timedelta(days=30), tick=False):
        CaseFactory(customer=often)
    with time_machine.travel(NOW, tick=False):
        ids = cases_open_many(
            specs=[
                NewCase(customer=_key(often), title="Second"),
                NewCase(customer=_key(often), title="Third"),
                NewCase(customer=_key(once), title="First"),
            ]
        )
        # As for one case at a time: every case counts the customer's cases in its window.
        opened = escalation_rules_apply_many(case_ids=tuple(ids), now=NOW)
        assert Escalation.objects.count() == 2
        assert set(Escalation.objects.values_list("case_id", flat=True)) == {ids[0], ids[1]}
        assert len(opened) == 2
        with django_assert_max_num_queries(12):
            assert escalation_rules_apply_many(case_ids=tuple(ids), now=NOW) == []  # once only


def test_no_rules_costs_one_query(django_assert_num_queries: Any) -> None:
    case = CaseFactory()
    with django_assert_num_queries(1):
        assert escalation_rules_apply_many(case_ids=(case.pk,), now=NOW) == []

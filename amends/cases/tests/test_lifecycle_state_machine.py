"""Property: any sequence of workflow calls leaves an audit trail that replays to the case's
current status, and a refused call changes neither the case nor its trail (hypothesis)."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from amends.accounts.choices import Role
from amends.accounts.tests.factories import TeamFactory, UserFactory
from amends.cases.choices import CaseStatus, Outcome
from amends.cases.models import Case, CaseEvent
from amends.cases.services.messages import case_message_add
from amends.cases.services.workflow import (
    case_acknowledge,
    case_await_customer,
    case_close,
    case_reopen,
    case_resolve,
    case_resume,
)
from amends.cases.tests.factories import CaseFactory, steps_complete
from amends.core.exceptions import ApplicationError


def _replay(case: Case) -> str:
    """The status the audit trail says the case has: start new, follow every status change."""
    status = CaseStatus.NEW
    for data in CaseEvent.objects.filter(case=case).order_by("pk").values_list("data", flat=True):
        change = (data or {}).get("status") if isinstance(data, dict) else None
        if isinstance(change, dict) and "to" in change:
            assert change["from"] == status, f"trail jumps from {status} to {change}"
            status = change["to"]
    return status


class CaseLifecycle(RuleBasedStateMachine):
    case: Case
    actor: Any

    @initialize()
    def open_case(self) -> None:
        team = TeamFactory()
        self.actor = UserFactory(role=Role.SUPERVISOR, team=team)
        self.case = CaseFactory(team=team, assignee=self.actor)

    def _do(self, action: Any, **kwargs: Any) -> None:
        before_version = Case.objects.get(pk=self.case.pk).version
        before_events = CaseEvent.objects.filter(case=self.case).count()
        try:
            self.case = action(case=self.case, version=before_version, actor=self.actor, **kwargs)
        except ApplicationError:
            fresh = Case.objects.get(pk=self.case.pk)
            assert fresh.version == before_version
            assert CaseEvent.objects.filter(case=self.case).count() == before_events
            self.case = fresh

    @rule()
    def acknowledge(self) -> None:
        self._do(case_acknowledge)

    @rule()
    def await_customer(self) -> None:
        self._do(case_await_customer)

    @rule()
    def resume(self) -> None:
        self._do(case_resume)

    @rule()
    def resolve(self) -> None:
        steps_complete(self.case)
        self._do(case_resolve, outcome=Outcome.UPHELD)

    @rule()
    def resolve_with_steps_missing(self) -> None:
        self._do(case_resolve, outcome=Outcome.NOT_UPHELD)

    @rule()
    def close(self) -> None:
        self._do(case_close)

    @rule()
    def reopen(self) -> None:
        self._do(case_reopen, reason="Customer came back")

    @rule()
    def message(self) -> None:
        with contextlib.suppress(ApplicationError):  # a closed case takes no message
            case_message_add(
                case=self.case, direction="inbound", body="Any news?", actor=self.actor
            )
        self.case = Case.objects.get(pk=self.case.pk)

    @invariant()
    def trail_replays_to_the_status(self) -> None:
        if hasattr(self, "case"):
            stored = Case.objects.get(pk=self.case.pk)
            assert _replay(stored) == stored.status


@pytest.mark.django_db
def test_case_lifecycle_audit_trail_replays_to_the_current_status() -> None:
    CaseLifecycle.TestCase.settings = settings(
        max_examples=10,
        stateful_step_count=10,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    CaseLifecycle.TestCase().runTest()

from __future__ import annotations

from typing import Any

import factory
from django.contrib.auth.models import User

from amends.cases.choices import CaseStatus, Outcome, StepState
from amends.cases.models import Case
from amends.cases.services.intake import case_create
from amends.cases.services.workflow import (
    case_acknowledge,
    case_await_customer,
    case_close,
    case_resolve,
    case_resume,
)
from amends.core.testing import ModelFactory
from amends.customers.tests.factories import CustomerFactory


class CaseFactory(ModelFactory[Case]):
    """A new case opened through the real intake service (steps and SLA clocks included)."""

    class Meta:
        model = Case

    customer = factory.SubFactory(CustomerFactory)
    title = factory.Sequence(lambda n: f"Service failure {n}")
    description = "My broadband has been down for three days."
    expected = "A working connection"
    delivered = "No service since Monday"
    severity = 3

    @classmethod
    def _create(cls, model_class: type[Case], *args: Any, **kwargs: Any) -> Case:
        kwargs.setdefault("actor", None)
        return case_create(**kwargs)


def steps_complete(case: Case) -> None:
    """Test set-up: mark every pending step done without going through the workflow."""
    case.steps.filter(state=StepState.PENDING).update(state=StepState.DONE)


def case_in_status(status: str, *, actor: User, **kwargs: Any) -> Case:
    """A case moved to `status` through the real services (required steps done if needed)."""
    case = CaseFactory(**kwargs)
    if status == CaseStatus.NEW:
        return case
    case = case_acknowledge(case=case, version=None, actor=actor)
    if status == CaseStatus.ACKNOWLEDGED:
        return case
    if status == CaseStatus.AWAITING_CUSTOMER:
        return case_await_customer(case=case, version=None, actor=actor)
    case = case_resume(case=case, version=None, actor=actor)
    if status == CaseStatus.IN_RECOVERY:
        return case
    steps_complete(case)
    case = case_resolve(
        case=case, outcome=Outcome.UPHELD, version=None, actor=actor, confirm_undetermined=True
    )
    if status == CaseStatus.RESOLVED:
        return case
    return case_close(case=case, version=None, actor=actor)

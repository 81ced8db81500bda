import pytest

from amends.accounts.choices import Role
from amends.accounts.tests.factories import UserFactory
from amends.cases.choices import CaseStatus, StepState
from amends.cases.services.workflow import case_acknowledge
from amends.cases.tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


def test_case_acknowledge_marks_step_and_assigns_actor() -> None:
    agent = UserFactory(role=Role.AGENT)
    case = CaseFactory()
    case = case_acknowledge(case=case, version=1, actor=agent)
    assert case.status == CaseStatus.ACKNOWLEDGED
    assert case.version == 2
    assert case.assignee == agent
    assert case.steps.get(step="acknowledge").state == StepState.DONE

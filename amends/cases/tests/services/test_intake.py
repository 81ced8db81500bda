from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine

from amends.accounts.choices import Role
from amends.accounts.tests.factories import TeamFactory, UserFactory
from amends.cases.choices import CaseEventKind, CaseStatus, StepState
from amends.cases.models import Case
from amends.cases.services.intake import NewCustomer, case_create, case_intake
from amends.core.exceptions import ApplicationError, PermissionDeniedError
from amends.customers.models import Customer
from amends.customers.tests.factories import CustomerFactory
from amends.policies.tests.factories import PlaybookFactory, PlaybookStepFactory
from amends.taxonomy.tests.factories import CategoryFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


def test_case_create_opens_new_case_with_fallback_steps_and_clocks() -> None:
    agent = UserFactory(role=Role.AGENT)
    customer = CustomerFactory()
    with time_machine.travel(NOW, tick=False):
        case = case_create(
            customer=customer,
            title="  Broadband down ",
            expected=" Working line ",
            delivered="Nothing",
            channel="email",
            severity=2,
            actor=agent,
        )
    case.refresh_from_db()
    assert case.ref == f"AM-{case.pk:06d}"
    assert (case.status, case.version, case.title, case.expected) == (
        CaseStatus.NEW,
        1,
        "Broadband down",
        "Working line",
    )
    assert case.created_by == agent
    assert case.created_at == NOW
    # No playbook configured: the fallback targets for severity 2 in plain time
    assert case.ack_due_at == NOW + timedelta(hours=2)
    assert case.resolve_due_at == NOW + timedelta(hours=16)
    assert case.sla_due_at == case.ack_due_at
    steps = list(case.steps.order_by("position").values_list("step", "required", "state"))
    assert steps == [
        ("acknowledge", True, StepState.PENDING),
        ("apologise", True, StepState.PENDING),
        ("empathise", False, StepState.PENDING),
        ("rectify", True, StepState.PENDING),
        ("compensate", False, StepState.PENDING),
        ("follow_up", True, StepState.PENDING),
        ("prevent", False, StepState.PENDING),
    ]
    event = case.events.get()
    assert event.kind == CaseEventKind.CREATED
    assert event.actor == agent
    assert event.data["ref"] == case.ref
    assert event.data["severity"] == 2
    assert event.data["channel"] == "email"


def test_case_create_uses_the_parent_categorys_playbook_steps() -> None:
    parent = CategoryFactory(name="Billing")
    child = CategoryFactory(name="Overcharge", parent=parent)
    playbook = PlaybookFactory(category=parent)
    PlaybookStepFactory(playbook=playbook, step="acknowledge", position=0)
    PlaybookStepFactory(playbook=playbook, step="compensate", position=2, required=True)
    PlaybookStepFactory(playbook=playbook, step="apologise", position=1, required=False)
    case = case_create(customer=CustomerFactory(), title="Overcharged", category=child, actor=None)
    assert case.playbook == playbook
    assert list(case.steps.order_by("position").values_list("step", "required")) == [
        ("acknowledge", True),
        ("apologise", False),
        ("compensate", True),
    ]


def test_case_create_with_assignee_routes_to_their_team() -> None:
    team = TeamFactory()
    agent = UserFactory(role=Role.AGENT, team=team)
    case = case_create(customer=CustomerFactory(), title="x", assignee=agent, actor=agent)
    assert (case.team, case.assignee) == (team, agent)
    assert case.events.get().data["assignee"] == agent.username


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"channel": "fax"}, "channel"),
        ({"fault": "gremlins"}, "fault"),
        ({"severity": 0}, "severity"),
        ({"severity": 5}, "severity"),
        ({"title": "   "}, "title"),
    ],
)
def test_case_create_refused_for_invalid_input(kwargs: dict[str, Any], field: str) -> None:
    customer = CustomerFactory()
    params: dict[str, Any] = {"customer": customer, "title": "Late delivery", "actor": None}
    params.update(kwargs)
    with pytest.raises(ApplicationError) as excinfo:
        case_create(**params)
    assert (excinfo.value.code, excinfo.value.status) == ("invalid_case", 422)
    assert field in excinfo.value.detail
    assert not Case.objects.exists()


def test_case_create_agent_may_not_give_a_new_case_to_someone_else() -> None:
    team = TeamFactory()
    agent = UserFactory(role=Role.AGENT, team=team)
    colleague = UserFactory(role=Role.AGENT, team=team)
    with pytest.raises(PermissionDeniedError):
        case_create(customer=CustomerFactory(), title="x", assignee=colleague, actor=agent)
    assert not Case.objects.exists()


def test_case_create_supervisor_gives_case_within_team_only() -> None:
    team, other = TeamFactory(), TeamFactory()
    supervisor = UserFactory(role=Role.SUPERVISOR, team=team)
    member = UserFactory(role=Role.AGENT, team=team)
    outsider = UserFactory(role=Role.AGENT, team=other)
    case = case_create(customer=CustomerFactory(), title="x", assignee=member, actor=supervisor)
    assert case.assignee == member
    with pytest.raises(PermissionDeniedError):
        case_create(customer=CustomerFactory(), title="y", assignee=outsider, actor=supervisor)
    manager = UserFactory(role=Role.MANAGER, team=None)
    case = case_create(customer=CustomerFactory(), title="z", assignee=outsider, actor=manager)
    assert case.team == other


def test_case_create_refuses_assignee_outside_the_given_team() -> None:
    team, other = TeamFactory(), TeamFactory()
    agent = UserFactory(role=Role.AGENT, team=team)
    with pytest.raises(ApplicationError) as excinfo:
        case_create(customer=CustomerFactory(), title="x", team=other, assignee=agent, actor=None)
    assert (excinfo.value.code, excinfo.value.status) == ("invalid_case", 422)
    assert "assignee" in excinfo.value.detail


def test_case_intake_finds_a_returning_customer_by_reference() -> None:
    agent = UserFactory(role=Role.AGENT)
    known = CustomerFactory(external_ref="C-1")
    case = case_intake(
        customer=None,
        new_customer=NewCustomer(name="Someone", external_ref=" C-1 "),
        title="Again",
        actor=agent,
    )
    assert case.customer == known
    assert Customer.objects.count() == 1


def test_case_intake_creates_a_new_customer_with_their_details() -> None:
    agent = UserFactory(role=Role.AGENT)
    case = case_intake(
        customer=None,
        new_customer=NewCustomer(name="Ada", details={"email": "ada@example.com"}),
        title="First",
        actor=agent,
    )
    assert (case.customer.name, case.customer.email) == ("Ada", "ada@example.com")


def test_case_intake_refuses_without_a_customer() -> None:
    with pytest.raises(ApplicationError) as caught:
        case_intake(customer=None, new_customer=None, title="x", actor=UserFactory())
    assert caught.value.code == "invalid_case"
    assert not Case.objects.exists()


def test_case_create_refuses_an_inactive_assignee() -> None:
    gone = UserFactory(role=Role.AGENT)
    gone.is_active = False
    gone.save()
    with pytest.raises(ApplicationError) as caught:
        case_create(customer=CustomerFactory(), title="x", actor=None, assignee=gone)
    assert caught.value.code == "invalid_assignee"
    assert not Case.objects.exists()

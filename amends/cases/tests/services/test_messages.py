from __future__ import annotations

from typing import Any

import pytest

from amends.accounts.choices import Role
from amends.accounts.tests.factories import UserFactory
from amends.cases.choices import CaseEventKind, CaseStatus, MessageDirection
from amends.cases.models import Message
from amends.cases.services.messages import MAX_BODY, case_message_add
from amends.cases.tests.factories import CaseFactory, case_in_status
from amends.core.exceptions import ApplicationError, StaleVersionError

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent() -> Any:
    return UserFactory(role=Role.AGENT)


def test_case_message_add_records_message_event_and_version(agent: Any) -> None:
    case = CaseFactory()
    message = case_message_add(
        case=case,
        direction=MessageDirection.INTERNAL,
        body="  Called them  ",
        actor=agent,
        version=1,
    )
    message.refresh_from_db()
    assert (message.body, message.author, message.direction) == ("Called them", agent, "internal")
    case.refresh_from_db()
    assert case.version == 2
    event = case.events.get(kind=CaseEventKind.MESSAGE_ADDED)
    assert event.actor == agent
    assert event.data == {
        "message_id": message.pk,
        "direction": "internal",
        "excerpt": "Called them",
    }


def test_case_message_add_outbound_can_wait_for_the_customer(agent: Any) -> None:
    case = case_in_status(CaseStatus.IN_RECOVERY, actor=agent)
    case_message_add(
        case=case,
        direction=MessageDirection.OUTBOUND,
        body="Could you send the receipt?",
        actor=agent,
        awaiting_customer=True,
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.AWAITING_CUSTOMER
    assert case.awaiting_customer_since is not None


def test_case_message_add_inbound_resumes_a_waiting_case(agent: Any) -> None:
    case = case_in_status(CaseStatus.AWAITING_CUSTOMER, actor=agent)
    case_message_add(case=case, direction=MessageDirection.INBOUND, body="Attached", actor=None)
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_RECOVERY
    last = case.events.order_by("-id").first()
    assert last.data["status"] == {"from": "awaiting_customer", "to": "in_recovery"}


def test_case_message_add_waiting_refused_on_new_case_and_nothing_written(agent: Any) -> None:
    case = CaseFactory()
    with pytest.raises(ApplicationError) as excinfo:
        case_message_add(
            case=case,
            direction=MessageDirection.OUTBOUND,
            body="Hello",
            actor=agent,
            awaiting_customer=True,
        )
    assert excinfo.value.code == "illegal_transition"
    assert not Message.objects.exists()
    case.refresh_from_db()
    assert case.version == 1


@pytest.mark.parametrize(
    ("direction", "body", "awaiting"),
    [
        ("sideways", "Hi", False),
        ("inbound", "   ", False),
        ("inbound", "x" * (MAX_BODY + 1), False),
        ("internal", "Note", True),
    ],
)
def test_case_message_add_refused_for_invalid_input(
    direction: str, body: str, awaiting: bool, agent: Any
) -> None:
    case = CaseFactory()
    with pytest.raises(ApplicationError) as excinfo:
        case_message_add(
            case=case, direction=direction, body=body, actor=agent, awaiting_customer=awaiting
        )
    assert (excinfo.value.code, excinfo.value.status) == ("invalid_message", 422)
    assert not Message.objects.exists()


def test_case_message_add_refused_when_version_stale(agent: Any) -> None:
    case = CaseFactory()
    with pytest.raises(StaleVersionError):
        case_message_add(case=case, direction="internal", body="Hi", actor=agent, version=3)
    assert not Message.objects.exists()
    assert case.events.count() == 1

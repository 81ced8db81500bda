from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine

from amends.accounts.tests.factories import UserFactory
from amends.cases.services.events import case_event_record, changes
from amends.cases.tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


def test_case_event_record_appends_with_actor_and_time() -> None:
    case = CaseFactory()
    actor = UserFactory()
    when = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
    with time_machine.travel(when, tick=False):
        event = case_event_record(
            case=case, kind="remedy_proposed", actor=actor, data={"amount": "10.00"}
        )
    event.refresh_from_db()
    assert (event.kind, event.actor, event.data, event.created_at) == (
        "remedy_proposed",
        actor,
        {"amount": "10.00"},
        when,
    )
    kinds = case.events.order_by("id").values_list("kind", flat=True)
    assert list(kinds) == ["created", "remedy_proposed"]


def test_changes_lists_only_differences_json_safe() -> None:
    before = {"a": 1, "b": "x", "c": None}
    after = {"a": 1, "b": "y", "c": date(2026, 1, 2)}
    assert changes(before, after) == {
        "b": {"from": "x", "to": "y"},
        "c": {"from": None, "to": "2026-01-02"},
    }

from __future__ import annotations

from datetime import UTC, datetime

from amends.web.templatetags.amends_web import (
    event_changes,
    event_kind_label,
    person,
    step_label,
)


def test_step_label_names_known_steps_and_keeps_unknown_codes() -> None:
    assert step_label("follow_up") == "Follow up"
    assert step_label("prevent") == "Prevent recurrence"
    assert step_label("mystery") == "mystery"


def test_event_kind_label_humanizes_kinds_of_other_apps() -> None:
    assert event_kind_label("step_skipped") == "Step skipped"
    assert event_kind_label("remedy_proposed") == "Remedy proposed"


def test_event_changes_renders_before_and_after_with_labels() -> None:
    rows = event_changes(
        {
            "status": {"from": "in_recovery", "to": "resolved"},
            "outcome": "not_upheld",
            "on_time": False,
            "note": "",
            "message_id": 7,
            "resolve_due_at": datetime(2026, 3, 2, 9, 30, tzinfo=UTC).isoformat(),
        }
    )
    assert [(r.field, r.before, r.after, r.value) for r in rows] == [
        ("Status", "In recovery", "Resolved", None),
        ("Outcome", None, None, "Not upheld"),
        ("On time", None, None, "no"),
        ("Resolve due at", None, None, "2 Mar 2026, 09:30"),
    ]


def test_event_changes_shows_empty_before_as_a_dash() -> None:
    (row,) = event_changes({"assignee": {"from": None, "to": "ann"}})
    assert (row.before, row.after, row.is_change) == ("—", "ann", True)


def test_event_changes_ignores_data_that_is_not_a_mapping() -> None:
    assert event_changes(["x"]) == []


def test_person_falls_back_to_username_then_to_the_system() -> None:
    class U:
        username = "ann"

        def get_full_name(self) -> str:
            return ""

    assert person(U()) == "ann"
    assert person(None) == "System"


def test_event_changes_renders_nested_values_readably() -> None:
    rows = event_changes(
        {
            "breaches": [{"limit": "per_remedy", "max": "50.00", "would_be": "80.00"}],
            "options": [{"kind": "refund", "amount": "20.00"}, {"kind": "voucher", "amount": None}],
        }
    )
    values = {row.field: row.value for row in rows}
    assert values["Breaches"] == "Limit: per_remedy, Max: 50.00, Would be: 80.00"
    assert values["Options"] == "Kind: refund, Amount: 20.00; Kind: voucher"
    assert all(
        value is not None and "{" not in value and "[" not in value for value in values.values()
    )

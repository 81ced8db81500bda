"""Every timeline event kind, from every app, has a label and reads as a sentence with names."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from amends.cases.event_kinds import (
    EventLine,
    event_kind_has_renderer,
    event_kind_label,
    event_kind_labels,
    event_render,
    events_render,
)

AT = "2026-12-01T09:30:00+00:00"
LATER = "2026-12-03T16:00:00+00:00"
REMEDY = {"remedy_id": 4, "kind": "goodwill_credit", "amount": "240.00", "currency": "GBP"}

# One realistic payload per kind, as the services write them.
SAMPLES: dict[str, dict[str, Any]] = {
    "created": {
        "ref": "AM-000001",
        "channel": "in_person",
        "severity": 2,
        "playbook": "Billing disputes",
        "ack_due_at": AT,
        "resolve_due_at": LATER,
        "team": "Billing care",
        "assignee": "sam",
    },
    "updated": {"severity": {"from": 3, "to": 2}, "title": {"from": "Old", "to": "New"}},
    "acknowledged": {
        "status": {"from": "new", "to": "acknowledged"},
        "on_time": True,
        "note": "Called back.",
    },
    "assigned": {"assignee": {"from": "alex", "to": "sam"}, "team": {"from": None, "to": "Care"}},
    "status_changed": {
        "status": {"from": "awaiting_customer", "to": "in_recovery"},
        "sla": "resumed",
        "paused_seconds": 4946,
        "resolve_due_at": LATER,
    },
    "step_done": {"step": "follow_up", "state": {"from": "pending", "to": "done"}, "note": "ok"},
    "step_skipped": {
        "step": "empathise",
        "state": {"from": "pending", "to": "skipped"},
        "reason": "Not needed.",
    },
    "message_added": {"message_id": 1, "direction": "internal", "excerpt": "Checked the bill."},
    "resolved": {
        "status": {"from": "in_recovery", "to": "resolved"},
        "outcome": "partly_upheld",
        "explanation": "",
        "on_time": False,
    },
    "closed": {"status": {"from": "resolved", "to": "closed"}},
    "reopened": {
        "status": {"from": "resolved", "to": "in_recovery"},
        "reason": "It happened again.",
        "previous_outcome": "not_upheld",
    },
    "double_deviation": {
        "double_deviation": {"from": False, "to": True},
        "cause": "broken_promise",
    },
    "tagged": {"added": ["billing", "vip"], "removed": []},
    "merged_into": {"into": "AM-000002"},
    "merged_from": {"from": "AM-000003"},
    "remedy_granted": {
        **REMEDY,
        "status": {"from": "proposed", "to": "granted"},
        "within_authority": True,
        "reason": "Sorry",
    },
    "remedy_approval_requested": {
        **REMEDY,
        "status": {"from": "proposed", "to": "pending_approval"},
        "approver": "morgan",
        "decision_due_at": LATER,
        "breaches": [
            {"limit": "max_per_remedy", "allowed": "50.00", "would_be": "240.00"},
            {"limit": "max_per_customer", "allowed": "150.00", "would_be": "260.00"},
        ],
        "reason": "Second outage this month",
    },
    "remedy_approved": {
        **REMEDY,
        "status": {"from": "pending_approval", "to": "approved"},
        "proposed_by": "alex",
        "decision_reason": "Fair.",
        "decision_seconds": 5400,
    },
    "remedy_rejected": {
        **REMEDY,
        "status": {"from": "pending_approval", "to": "rejected"},
        "proposed_by": "alex",
        "decision_reason": "Too much.",
        "decision_seconds": 60,
    },
    "remedy_issued": {
        **REMEDY,
        "status": {"from": "granted", "to": "issued"},
        "issue_reference": "CN-1",
    },
    "remedy_cancelled": {
        **REMEDY,
        "status": {"from": "granted", "to": "cancelled"},
        "reason": "Duplicate",
    },
    "remedy_approval_escalated": {
        **REMEDY,
        "status": "pending_approval",
        "approver": {"from": "sky", "to": "morgan"},
        "decision_due_at": LATER,
        "escalation_level": 1,
    },
    "remedy_approval_overdue": {
        **REMEDY,
        "status": "pending_approval",
        "approver": "morgan",
        "decision_due_at": AT,
        "note": "No one above the approver has the authority; it stays with them.",
    },
    "remedy_menu_offered": {"menu_id": 1, "options": [REMEDY, {**REMEDY, "kind": "voucher"}]},
    "remedy_chosen": {**REMEDY, "status": "granted", "menu_id": 1, "on_behalf_of_customer": True},
    "commitment_made": {
        "commitment": 1,
        "kind": "callback",
        "description": "Call back with the engineer's findings",
        "owner": "sam",
        "due_at": LATER,
        "customer_visible": True,
        "remedy": None,
    },
    "commitment_kept": {
        "commitment": 1,
        "status": {"from": "open", "to": "kept"},
        "on_time": True,
        "note": "Called.",
        "reference": "",
        "file": "",
    },
    "commitment_cancelled": {
        "commitment": 1,
        "status": {"from": "open", "to": "cancelled"},
        "reason": "No longer needed",
        "customer_informed": True,
    },
    "commitment_rescheduled": {
        "commitment": 1,
        "due_at": {"from": AT, "to": LATER},
        "reason": "Engineer ill",
    },
    "commitment_broken": {
        "commitment": 1,
        "status": {"from": "open", "to": "broken"},
        "kind": "visit",
        "description": "",
        "owner": "sam",
        "due_at": AT,
    },
    "escalated": {
        "escalation": 1,
        "reason": "sla_breached",
        "level": "supervisor",
        "automatic": True,
        "assignee": "morgan",
        "decision_due_at": LATER,
        "note": "",
    },
    "escalation_bumped": {
        "escalation": 1,
        "level": {"from": "supervisor", "to": "executive"},
        "assignee": "morgan",
        "decision_due_at": LATER,
    },
    "escalation_decided": {
        "escalation": 1,
        "status": {"from": "open", "to": "decided"},
        "level": "manager",
        "decision": "Refund agreed",
        "on_time": True,
        "seconds": 7200,
    },
    "survey_scheduled": {"survey_id": 1, "send_after": LATER, "why": "incident_recovery"},
    "survey_sent": {"survey_id": 1, "expires_at": LATER},
    "survey_answered": {
        "survey_id": 1,
        "csat": 4,
        "nps": 9,
        "would_use_again": None,
        "promises_kept": "partly",
    },
    "survey_excluded": {"reason": "Opened for an internal audit"},
    "follow_up_opened": {
        "follow_up_id": 1,
        "assignee": "sky",
        "reasons": ["low_csat", "detractor"],
        "due_at": LATER,
    },
    "follow_up_done": {"follow_up_id": 1, "outcome": "put_right", "note": "Happy now."},
    "compliment": {"compliment_id": 1, "staff": "sam"},
    "attachments_added": {"message_id": 3, "count": 2, "direction": "outbound"},
    "second_look_requested": {
        "second_look_id": 1,
        "subject": "proposed_outcome",
        "reviewer": "sky",
        "due_at": LATER,
    },
    "second_look_answered": {"second_look_id": 1, "status": "commented"},
    "staff_review_opened": {"review_id": 1},
    "incident_linked": {"incident": "INC-0001", "title": "Broadband outage in Leeds"},
    "incident_notice_sent": {"incident": "INC-0001", "round": 2, "subject": "Service restored"},
}

# A code: a snake_case word (`max_per_remedy`, `in_person`), an ISO moment, a Python literal.
CODE = re.compile(r"\b[a-z]+_[a-z_]+\b|\d{4}-\d{2}-\d{2}T|\bNone\b|\bTrue\b|\bFalse\b|[{}\[\]]")
NAMES = {"alex": "Alex Morgan", "sam": "Sam Lee", "morgan": "Morgan Hughes", "sky": "Sky Adeyemi"}


def test_every_registered_kind_has_a_sample_here() -> None:
    """A kind added without a sentence (or a sample in this table) fails here."""
    assert set(event_kind_labels()) == set(SAMPLES)


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_every_kind_has_a_label_and_a_sentence_without_codes(kind: str) -> None:
    label = event_kind_label(kind)
    assert label
    assert "_" not in label
    assert label[0].isupper()
    assert event_kind_has_renderer(kind), f"{kind} has no renderer"
    for actor in ("Priya Shah", ""):
        text = event_render(EventLine(kind=kind, data=SAMPLES[kind], actor=actor, names=NAMES))
        assert text, kind
        assert text[0].isupper(), text
        assert not CODE.search(text), f"{kind}: {text!r} shows a code"
        for username in NAMES:
            assert not re.search(rf"\b{username}\b", text), f"{kind}: {text!r} shows a username"


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("assigned", "Priya Shah assigned the case to Sam Lee in the Care team"),
        ("attachments_added", "Priya Shah added 2 attachments to a message"),
        ("escalated", "The case was escalated to a supervisor (Morgan Hughes) because the SLA"),
        ("remedy_approval_requested", "Over the limit for one remedy (£50.00; this would make"),
        ("resolved", "Priya Shah resolved the case late, with the complaint partly upheld"),
        ("updated", "Priya Shah changed the severity from 3 – Medium to 2 – High"),
    ],
)
def test_sentences_read_as_a_person_would_say_them(kind: str, expected: str) -> None:
    text = event_render(EventLine(kind=kind, data=SAMPLES[kind], actor="Priya Shah", names=NAMES))
    assert expected in text, text


def test_a_status_change_names_both_statuses() -> None:
    data = {"status": {"from": "proposed", "to": "pending_approval"}}
    text = event_render(EventLine(kind="status_changed", data=data))
    assert "pending_approval" not in text


def test_an_unregistered_kind_reads_as_its_humanized_label() -> None:
    assert event_render(EventLine(kind="mystery_thing", data={"x": 1})) == "Mystery thing"


@pytest.mark.django_db
def test_events_render_looks_up_the_named_people_in_one_query(
    django_assert_num_queries: Any,
) -> None:
    User.objects.create_user("sam", first_name="Sam", last_name="Lee")
    User.objects.create_user("alex", first_name="Alex", last_name="Morgan")
    actor = User.objects.create_user("priya", first_name="Priya", last_name="Shah")

    class Event:
        def __init__(self, kind: str, data: dict[str, Any]) -> None:
            self.kind, self.data, self.actor = kind, data, actor
            self.created_at = timezone.now()

    events = [Event("assigned", SAMPLES["assigned"]), Event("compliment", SAMPLES["compliment"])]
    with django_assert_num_queries(1):
        lines = events_render(events)
    assert lines[0].text.startswith("Priya Shah assigned the case to Sam Lee")
    assert lines[1].text == "Priya Shah recorded a compliment for Sam Lee"

"""Presentation helpers for the staff UI: labels for stored codes and the timeline's before → after."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django import template
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from amends.cases import event_kinds
from amends.cases.choices import CaseStatus, MessageDirection, Outcome, StepState
from amends.core.formats import format_day, format_moment
from amends.policies.choices import RecoveryStep

register = template.Library()


# Stored codes that appear in event data, and the words staff read instead.
def _labels(choices: Any) -> dict[str, str]:
    return {str(value): str(label) for value, label in choices.choices}


_VALUE_LABELS: dict[str, dict[str, str]] = {
    "status": _labels(CaseStatus),
    "state": _labels(StepState),
    "step": _labels(RecoveryStep),
    "outcome": _labels(Outcome),
    "previous_outcome": _labels(Outcome),
    "direction": _labels(MessageDirection),
}
_HIDDEN_KEYS = {"message_id"}


@dataclass
class Change:
    field: str
    before: str | None
    after: str | None
    value: str | None
    is_change: bool


def _label(key: str, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    labels = _VALUE_LABELS.get(key)
    if labels is not None and str(value) in labels:
        return str(labels[str(value)])
    if isinstance(value, dict):
        parts = (
            f"{_humanize(str(k))}: {_label(str(k), v)}"
            for k, v in value.items()
            if v not in (None, "")
        )
        return ", ".join(parts) or "—"
    if isinstance(value, list | tuple):
        return "; ".join(_label(key, item) for item in value) or "—"
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and "T" in value:
        moment = _parse_moment(value)
        if moment is not None:
            return format_moment(moment)
    return str(value)


def _parse_moment(value: str) -> Any:
    try:
        moment = parse_datetime(value)
    except ValueError:
        return None
    if moment is None or timezone.is_naive(moment):
        return None
    return moment


def _humanize(code: str) -> str:
    return code.replace("_", " ").capitalize()


@register.filter
def step_label(code: str) -> str:
    """`apologise` → `Apologise`; unknown codes are shown as they are."""
    return _VALUE_LABELS["step"].get(code, code)


@register.filter
def event_kind_label(kind: str) -> str:
    """Every app's kinds by their registered label (amends.cases.event_kinds)."""
    return event_kinds.event_kind_label(kind)


@register.filter
def timeline_lines(events: Any) -> list[event_kinds.RenderedEvent]:
    """Each event with its sentence (names, not codes), the people it names looked up at once."""
    return event_kinds.events_render(list(events))


@register.filter
def when(value: Any) -> str:
    """The one way pages show a moment: `1 Dec 2026, 09:30` in the reader's time zone."""
    if not isinstance(value, datetime):
        return ""
    return format_moment(value)


@register.simple_tag
def now_local() -> str:
    """The current moment, as `when` writes it."""
    return format_moment(timezone.now())


@register.filter
def day(value: Any) -> str:
    """A date alone: `1 Dec 2026` (a moment's day in the reader's time zone)."""
    if not isinstance(value, date):
        return ""
    return format_day(value)


@register.filter
def event_changes(data: Any) -> list[Change]:
    """One line per key of an event's data: `from → to` pairs and plain values, empty ones left out."""
    if not isinstance(data, dict):
        return []
    rows: list[Change] = []
    for key, value in data.items():
        if key in _HIDDEN_KEYS:
            continue
        field = _humanize(key)
        if isinstance(value, dict) and set(value) == {"from", "to"}:
            rows.append(
                Change(
                    field=field,
                    before=_label(key, value["from"]),
                    after=_label(key, value["to"]),
                    value=None,
                    is_change=True,
                )
            )
        elif value is None or value in ("", [], {}):
            continue
        else:
            rows.append(
                Change(
                    field=field, before=None, after=None, value=_label(key, value), is_change=False
                )
            )
    return rows


@register.filter
def person(user: Any, fallback: str = "System") -> str:
    """A staff member's full name, else their username; `fallback` when there is nobody."""
    if user is None:
        return fallback
    return str(user.get_full_name() or user.username)

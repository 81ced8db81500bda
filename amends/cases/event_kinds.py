"""The one registry of timeline event kinds (CaseEvent.kind): their labels and their sentences.

Each app that writes events on a case's timeline declares its kinds as `TextChoices` in its
`choices.py` and registers them from its `AppConfig.ready()`, with a renderer per kind that
turns an event into a sentence a person reads:
`event_kinds_register(RemedyEventKind, renderers=REMEDY_RENDERERS)`.

A renderer gets an `EventLine` (the event's data, who did it, and the display names of the
people its data names by username) and returns one sentence with names, never codes:
"Alex Morgan assigned the case to Sam Lee". The timeline (web and API) reads every kind from
here; a kind nobody registered is shown humanized (`remedy_chosen` → "Remedy chosen").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.models import User
from django.db import models
from django.utils import timezone

from amends.cases.choices import CaseEventKind, CaseStatus, Channel, MessageDirection, Outcome
from amends.core.formats import format_moment, format_money
from amends.policies.choices import RecoveryStep, Severity

_LABELS: dict[str, str] = {}
_RENDERERS: dict[str, Renderer] = {}


@dataclass(frozen=True)
class EventLine:
    """What a renderer reads: an event's data, who did it, and people's display names."""

    kind: str
    data: Mapping[str, Any]
    actor: str = ""  # the display name of who did it; empty when the system did
    names: Mapping[str, str] = field(default_factory=dict)  # username → display name

    def person(self, username: Any, fallback: str = "nobody") -> str:
        if not username:
            return fallback
        return self.names.get(str(username), str(username))

    def did(self, active: str, passive: str) -> str:
        """`"Alex Morgan " + active` when someone did it, else the passive sentence."""
        return f"{self.actor} {active}" if self.actor else passive

    def text(self, key: str) -> str:
        value = self.data.get(key)
        return value.strip() if isinstance(value, str) else ""

    def quote(self, key: str, prefix: str = ": ", limit: int = 200) -> str:
        """`: "the note"` when the data has a note under `key`, else nothing."""
        value = self.text(key)
        if not value:
            return ""
        if len(value) > limit:
            value = value[: limit - 1].rstrip() + "…"
        return f"{prefix}“{value}”"

    def moment(self, key: str) -> str:
        return moment_text(self.data.get(key))

    def change(self, key: str) -> tuple[Any, Any] | None:
        value = self.data.get(key)
        if isinstance(value, Mapping) and set(value) == {"from", "to"}:
            return value["from"], value["to"]
        return None

    def after(self, key: str) -> Any:
        """The new value of a `{from, to}` change, or the plain value."""
        change = self.change(key)
        return change[1] if change is not None else self.data.get(key)

    def money(self, amount_key: str = "amount", currency_key: str = "currency") -> str:
        return money_text(self.data.get(amount_key), self.data.get(currency_key))


Renderer = Callable[[EventLine], str]


def event_kinds_register(
    choices: type[models.TextChoices], renderers: Mapping[str, Renderer] | None = None
) -> None:
    """Register `choices`' kinds and their renderers; a kind already registered keeps its first
    label and renderer."""
    for value, label in choices.choices:
        _LABELS.setdefault(str(value), str(label))
    for kind, renderer in (renderers or {}).items():
        _RENDERERS.setdefault(str(kind), renderer)


def event_kind_label(kind: str) -> str:
    return _LABELS.get(kind) or kind.replace("_", " ").capitalize()


def event_kind_labels() -> dict[str, str]:
    """Every registered kind and its label."""
    return dict(_LABELS)


def event_kind_has_renderer(kind: str) -> bool:
    return kind in _RENDERERS


def event_render(line: EventLine) -> str:
    """The sentence for one event; a kind without a renderer reads as its label."""
    renderer = _RENDERERS.get(line.kind)
    if renderer is None:
        label = event_kind_label(line.kind)
        return f"{label} ({line.actor})" if line.actor else label
    return renderer(line)


# --- rendering many events at once (the timeline): one query for the people they name ---------


def _usernames_in(value: Any, into: set[str]) -> None:
    if isinstance(value, str):
        if 0 < len(value) <= 150 and " " not in value:
            into.add(value)
    elif isinstance(value, Mapping):
        for item in value.values():
            _usernames_in(item, into)
    elif isinstance(value, list | tuple):
        for item in value:
            _usernames_in(item, into)


def display_names(usernames: Iterable[str]) -> dict[str, str]:
    """Usernames → full names (the username when a user has no name), in one query."""
    wanted = {u for u in usernames if u}
    if not wanted:
        return {}
    rows = User.objects.filter(username__in=wanted).values_list(
        "username", "first_name", "last_name"
    )
    return {u: f"{first} {last}".strip() or u for u, first, last in rows}


def display_name(user: Any, fallback: str = "") -> str:
    if user is None:
        return fallback
    return str(user.get_full_name() or user.username)


@dataclass(frozen=True)
class RenderedEvent:
    event: Any
    text: str
    label: str


def events_render(events: Sequence[Any]) -> list[RenderedEvent]:
    """Each event (kind, data, actor) with its sentence; the actors should be select_related."""
    usernames: set[str] = set()
    for event in events:
        if isinstance(event.data, Mapping):
            _usernames_in(event.data, usernames)
    names = display_names(usernames)
    return [
        RenderedEvent(
            event=event,
            text=event_render(
                EventLine(
                    kind=event.kind,
                    data=event.data if isinstance(event.data, Mapping) else {},
                    actor=display_name(event.actor),
                    names=names,
                )
            ),
            label=event_kind_label(event.kind),
        )
        for event in events
    ]


# --- words for stored values, shared by renderers ----------------------------------------------


def choice_text(choices: type[models.Choices], value: Any, lower: bool = True) -> str:
    """A stored choice by its label (lowercased for the middle of a sentence)."""
    if value is None or value == "":
        return "none"
    for stored, label in choices.choices:
        if str(stored) == str(value):
            text = str(label)
            return text[0].lower() + text[1:] if lower and not text[:2].isupper() else text
    return str(value).replace("_", " ")


def moment_text(value: Any) -> str:
    if isinstance(value, datetime):
        return format_moment(value)
    if isinstance(value, str) and value:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        if timezone.is_naive(moment):
            return value
        return format_moment(moment)
    return "an unknown time"


def money_text(amount: Any, currency: Any) -> str:
    if amount in (None, ""):
        return ""
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, ValueError):
        return str(amount)
    return format_money(value, str(currency or ""))


def duration_text(seconds: Any) -> str:
    try:
        total = int(seconds)
    except (TypeError, ValueError):
        return ""
    hours, rest = divmod(total, 3600)
    minutes = rest // 60
    if hours and minutes:
        return f"{hours} h {minutes} min"
    if hours:
        return f"{hours} h"
    return f"{max(minutes, 1)} min"


def on_time_text(line: EventLine, key: str = "on_time") -> str:
    value = line.data.get(key)
    if value is True:
        return " on time"
    if value is False:
        return " late"
    return ""


def upper_first(text: str) -> str:
    """The first letter in capitals, the rest untouched (`str.capitalize` lowers "GBP")."""
    return text[:1].upper() + text[1:]


def join_words(parts: Sequence[str]) -> str:
    parts = [p for p in parts if p]
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


# --- the cases app's own kinds -----------------------------------------------------------------

# Field names in `updated` events, and how a person says them.
FIELD_WORDS: dict[str, str] = {
    "title": "the title",
    "description": "the customer's account",
    "expected": "what the customer expected",
    "delivered": "what was delivered",
    "staff_account": "the staff account",
    "fault": "the fault",
    "severity": "the severity",
    "category": "the category",
    "service": "the service",
    "root_cause": "the root cause",
    "channel": "the channel",
    "team": "the team",
    "assignee": "the assignee",
    "double_deviation": "the double-deviation flag",
    "playbook": "the playbook",
}
# Causes the system records for its own changes.
CAUSE_WORDS: dict[str, str] = {
    "broken_promise": "because a promise was broken",
    "repeat_after_broken_promise": "because the customer complained again after a broken promise",
    "sla_breached": "because the SLA was breached",
    "incident": "because of an incident",
}
_LONG_TEXT_FIELDS = {"description", "expected", "delivered", "staff_account"}


def _field_value(key: str, value: Any) -> str:
    if value is None or value == "":
        return "nothing"
    if key == "severity":
        return choice_text(Severity, value, lower=False)
    if key == "channel":
        return choice_text(Channel, value)
    if key == "fault":
        from amends.cases.choices import Fault

        return choice_text(Fault, value)
    if isinstance(value, bool):
        return "on" if value else "off"
    return f"“{value}”"


def _render_changes(line: EventLine) -> str:
    parts: list[tuple[str, str]] = []  # (what, "from A to B")
    for key, value in line.data.items():
        if key in ("cause", "source"):
            continue
        words = FIELD_WORDS.get(key, "a detail")
        if key == "fields" and isinstance(value, list | tuple):
            named = sorted({FIELD_WORDS.get(str(f), "a detail") for f in value})
            parts.extend((name, "") for name in named)
            continue
        change = line.change(key)
        if change is None:
            continue
        before, after = change
        if key == "double_deviation":
            return _render_double_deviation(line)
        if key in _LONG_TEXT_FIELDS:
            parts.append((words, ""))
        else:
            parts.append((words, f"from {_field_value(key, before)} to {_field_value(key, after)}"))
    if not parts:
        parts = [("the case details", "")]
    active = join_words([f"{what} {how}".strip() for what, how in parts])
    passive = join_words([f"{what} changed {how}".strip() for what, how in parts])
    sentence = line.did(f"changed {active}", upper_first(passive))
    if line.data.get("source"):
        sentence += " (bulk import)"
    return sentence + _cause(line)


def _cause(line: EventLine) -> str:
    cause = line.text("cause")
    if not cause:
        return ""
    return " " + CAUSE_WORDS.get(cause, "automatically")


def _render_created(line: EventLine) -> str:
    channel = line.data.get("channel")
    how = f" by {choice_text(Channel, channel)}" if channel else ""
    if channel == Channel.IN_PERSON:
        how = " in person"
    sentence = line.did(f"opened the case{how}", f"The case was opened{how}")
    details = []
    if line.data.get("severity") is not None:
        details.append(f"severity {choice_text(Severity, line.data['severity'], lower=False)}")
    if line.data.get("team"):
        details.append(f"team {line.data['team']}")
    if line.data.get("assignee"):
        details.append(f"assigned to {line.person(line.data['assignee'])}")
    if details:
        sentence += " (" + ", ".join(details) + ")"
    if line.data.get("resolve_due_at"):
        sentence += f"; it is due to be resolved by {line.moment('resolve_due_at')}"
    return sentence


def _render_assigned(line: EventLine) -> str:
    assignee = line.change("assignee")
    team = line.change("team")
    to_team = f" in the {team[1]} team" if team is not None and team[1] else ""
    if assignee is not None and assignee[1]:
        who = line.person(assignee[1])
        return line.did(
            f"assigned the case to {who}{to_team}", f"The case was assigned to {who}{to_team}"
        )
    if assignee is not None:
        queue = (
            f"the {team[1]} team's queue" if team is not None and team[1] else "its team's queue"
        )
        return line.did(f"put the case back in {queue}", f"The case went back to {queue}")
    if to_team:
        return (
            line.did(
                f"moved the case to the {team[1]} team", f"The case moved to the {team[1]} team"
            )
            if team is not None
            else ""
        )
    return line.did("assigned the case", "The case was assigned")


def _status_move(line: EventLine) -> str:
    change = line.change("status")
    if change is None:
        return ""
    return f"from {choice_text(CaseStatus, change[0])} to {choice_text(CaseStatus, change[1])}"


def _render_status_changed(line: EventLine) -> str:
    sla = line.text("sla")
    move = _status_move(line)
    sentence = line.did(f"moved the case {move}", f"The case moved {move}")
    if sla == "paused":
        sentence += "; the SLA clock is paused while we wait for the customer"
    elif sla == "resumed":
        paused = duration_text(line.data.get("paused_seconds"))
        sentence += "; the SLA clock runs again"
        if paused:
            sentence += f" after {paused} paused"
        if line.data.get("resolve_due_at"):
            sentence += f", now due by {line.moment('resolve_due_at')}"
    return sentence


def _render_acknowledged(line: EventLine) -> str:
    sentence = line.did("acknowledged the customer", "The customer was acknowledged")
    return sentence + on_time_text(line) + line.quote("note")


def _render_step(done: bool) -> Renderer:
    def render(line: EventLine) -> str:
        step = choice_text(RecoveryStep, line.data.get("step"), lower=False)
        if done:
            return line.did(f"did the step “{step}”", f"The step “{step}” was done") + line.quote(
                "note"
            )
        return line.did(
            f"skipped the step “{step}”", f"The step “{step}” was skipped"
        ) + line.quote("reason", prefix=" because ")

    return render


def _render_message(line: EventLine) -> str:
    direction = line.data.get("direction")
    if direction == MessageDirection.INBOUND:
        sentence = "The customer wrote"
        if line.actor:
            sentence = f"{line.actor} recorded a message from the customer"
    elif direction == MessageDirection.OUTBOUND:
        sentence = line.did("wrote to the customer", "A message went to the customer")
    else:
        sentence = line.did("added an internal note", "An internal note was added")
    return sentence + line.quote("excerpt", limit=140)


def _render_resolved(line: EventLine) -> str:
    outcome = choice_text(Outcome, line.data.get("outcome"))
    sentence = line.did("resolved the case", "The case was resolved") + on_time_text(line)
    return f"{sentence}, with the complaint {outcome}" + line.quote("explanation", prefix=". ")


def _render_closed(line: EventLine) -> str:
    return line.did("closed the case", "The case was closed")


def _render_reopened(line: EventLine) -> str:
    return line.did("reopened the case", "The case was reopened") + line.quote(
        "reason", prefix=" because "
    )


def _render_double_deviation(line: EventLine) -> str:
    return (
        "The case became a double deviation (a second failure after the recovery itself "
        "went wrong)" + _cause(line)
    )


def _render_tagged(line: EventLine) -> str:
    added = [str(t) for t in line.data.get("added", []) or []]
    removed = [str(t) for t in line.data.get("removed", []) or []]
    parts = []
    if added:
        parts.append("added the tag" + ("s " if len(added) > 1 else " ") + join_words(added))
    if removed:
        parts.append("removed the tag" + ("s " if len(removed) > 1 else " ") + join_words(removed))
    if not parts:
        return line.did("changed the tags", "The tags changed")
    active = " and ".join(parts)
    return line.did(active, f"Tags changed: {active}")


def _ref(line: EventLine, *keys: str) -> str:
    for key in keys:
        value = line.data.get(key)
        if value:
            return str(value)
    return "another case"


def _render_merged_into(line: EventLine) -> str:
    into = _ref(line, "into", "survivor", "ref", "case")
    return line.did(
        f"merged this case into {into} as a duplicate",
        f"This case was merged into {into} as a duplicate",
    )


def _render_merged_from(line: EventLine) -> str:
    source = _ref(line, "from", "duplicate", "ref", "case")
    return line.did(
        f"merged the duplicate {source} into this case",
        f"The duplicate {source} was merged into this case",
    )


CASE_RENDERERS: dict[str, Renderer] = {
    CaseEventKind.CREATED: _render_created,
    CaseEventKind.UPDATED: _render_changes,
    CaseEventKind.ACKNOWLEDGED: _render_acknowledged,
    CaseEventKind.ASSIGNED: _render_assigned,
    CaseEventKind.STATUS_CHANGED: _render_status_changed,
    CaseEventKind.STEP_DONE: _render_step(done=True),
    CaseEventKind.STEP_SKIPPED: _render_step(done=False),
    CaseEventKind.MESSAGE_ADDED: _render_message,
    CaseEventKind.RESOLVED: _render_resolved,
    CaseEventKind.CLOSED: _render_closed,
    CaseEventKind.REOPENED: _render_reopened,
    CaseEventKind.DOUBLE_DEVIATION: _render_double_deviation,
    CaseEventKind.TAGGED: _render_tagged,
    CaseEventKind.MERGED_INTO: _render_merged_into,
    CaseEventKind.MERGED_FROM: _render_merged_from,
}

event_kinds_register(CaseEventKind, renderers=CASE_RENDERERS)

"""Sentences for the timeline events the incidents app writes on cases (IncidentsConfig), and
for the incident's own history (IncidentEvent) on the incident page."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from amends.cases.event_kinds import (
    EventLine,
    RenderedEvent,
    Renderer,
    choice_text,
    display_name,
    display_names,
)
from amends.incidents.choices import (
    IncidentCaseEventKind,
    IncidentEventKind,
    IncidentStatus,
    RoundKind,
)


def _linked(line: EventLine) -> str:
    incident = line.text("incident") or "an incident"
    title = line.quote("title", prefix=" ")
    return line.did(
        f"linked the case to incident {incident}{title}",
        f"The case was linked to incident {incident}{title}",
    )


def _notice_sent(line: EventLine) -> str:
    incident = line.text("incident") or "the incident"
    number = line.data.get("round")
    which = f"update {number}" if number else "an update"
    return f"The customer was sent {which} on incident {incident}" + line.quote("subject")


INCIDENT_RENDERERS: dict[str, Renderer] = {
    IncidentCaseEventKind.LINKED: _linked,
    IncidentCaseEventKind.NOTICE_SENT: _notice_sent,
}


# --- the incident's own history (IncidentEvent) ------------------------------------------------


def _count(line: EventLine, key: str, one: str, many: str) -> str:
    value = line.data.get(key)
    number = value if isinstance(value, int) else 0
    return f"{number} {one if number == 1 else many}"


def _declared(line: EventLine) -> str:
    title = line.quote("title", prefix=" ")
    return line.did(f"declared the incident{title}", f"The incident{title} was declared")


def _updated(line: EventLine) -> str:
    where = "a public update" if line.data.get("public") else "an internal update"
    return line.did(f"posted {where}", f"{where.capitalize()} was posted")


def _status(line: EventLine) -> str:
    change = line.change("status")
    to = choice_text(IncidentStatus, change[1] if change else line.data.get("status"))
    return line.did(f"set the status to {to}", f"The status became {to}")


def _affected_added(line: EventLine) -> str:
    added = _count(line, "added", "affected customer", "affected customers")
    extra = []
    if line.data.get("already"):
        extra.append(_count(line, "already", "was already listed", "were already listed"))
    if line.data.get("rejected"):
        extra.append(_count(line, "rejected", "row refused", "rows refused"))
    tail = f" ({'; '.join(extra)})" if extra else ""
    return line.did(f"added {added}{tail}", f"{added.capitalize()} added{tail}")


def _cases_linked(line: EventLine) -> str:
    case = line.text("case")
    if case:
        return f"The customer chose from their menu; case {case} was opened and linked"
    linked = _count(line, "linked", "case", "cases")
    return line.did(f"linked {linked} to the incident", f"{linked.capitalize()} linked")


def _round_started(line: EventLine) -> str:
    number = line.data.get("round")
    kind = choice_text(RoundKind, line.data.get("kind"))
    to = _count(line, "customers", "customer", "customers")
    which = f"notification round {number}" if number else "a notification round"
    return line.did(f"started {which} ({kind}) to {to}", f"{which.capitalize()} ({kind}) to {to}")


def _round_finished(line: EventLine) -> str:
    number = line.data.get("round")
    which = f"Notification round {number}" if number else "A notification round"
    sent = _count(line, "sent", "email", "emails")
    return (
        f"{which} finished: {sent} queued for {_count(line, 'customers', 'customer', 'customers')}"
    )


def _budget_reached(line: EventLine) -> str:
    return (
        "The policy's budget cap was reached: further customers get no automatic remedies "
        f"({line.text('reserved')} reserved of {line.text('budget_cap')})"
    )


def _closed(line: EventLine) -> str:
    cause = line.text("root_cause")
    owner = line.person(line.data.get("owner"), fallback="")
    parts = [f"root cause {cause}" if cause else ""]
    if line.text("case"):
        owed = f" owed by {owner}" if owner else ""
        parts.append(f"prevention tracked on {line.text('case')}{owed}")
    if line.data.get("due_at"):
        parts.append(f"due {line.moment('due_at')}")
    detail = "; ".join(p for p in parts if p)
    detail = f": {detail}" if detail else ""
    return line.did(f"closed the incident{detail}", f"The incident was closed{detail}")


def _policy_changed(line: EventLine) -> str:
    return line.did("changed the recovery policy", "The recovery policy was changed")


INCIDENT_EVENT_RENDERERS: dict[str, Renderer] = {
    IncidentEventKind.DECLARED: _declared,
    IncidentEventKind.UPDATED: _updated,
    IncidentEventKind.STATUS: _status,
    IncidentEventKind.AFFECTED_ADDED: _affected_added,
    IncidentEventKind.CASES_LINKED: _cases_linked,
    IncidentEventKind.ROUND_STARTED: _round_started,
    IncidentEventKind.ROUND_FINISHED: _round_finished,
    IncidentEventKind.BUDGET_REACHED: _budget_reached,
    IncidentEventKind.CLOSED: _closed,
    IncidentEventKind.POLICY_CHANGED: _policy_changed,
}


def incident_events_render(events: Sequence[Any]) -> list[RenderedEvent]:
    """Each incident event with its sentence (actors select_related; one query for the people
    the data names)."""
    owners = [e.data.get("owner") for e in events if isinstance(e.data, Mapping)]
    names = display_names(str(o) for o in owners if o)
    rendered = []
    for event in events:
        line = EventLine(
            kind=event.kind,
            data=event.data if isinstance(event.data, Mapping) else {},
            actor=display_name(event.actor),
            names=names,
        )
        renderer = INCIDENT_EVENT_RENDERERS.get(event.kind)
        text = renderer(line) if renderer else event.get_kind_display()
        rendered.append(RenderedEvent(event=event, text=text, label=event.get_kind_display()))
    return rendered

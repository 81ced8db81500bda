"""Sentences for the timeline events the incidents app writes on cases (IncidentsConfig)."""

from __future__ import annotations

from amends.cases.event_kinds import EventLine, Renderer
from amends.incidents.choices import IncidentCaseEventKind


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

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User

from amends.incidents.models import Incident, IncidentEvent


def incident_event_record(
    *, incident: Incident, kind: str, actor: User | None, data: dict[str, Any] | None = None
) -> IncidentEvent:
    """Append one audit row; callers are services inside their transaction."""
    return IncidentEvent.objects.create(incident=incident, kind=kind, actor=actor, data=data or {})

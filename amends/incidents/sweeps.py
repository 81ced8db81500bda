"""Periodic work for `amends worker` / `amends sweep` (listed in AMENDS_SWEEPS)."""

from __future__ import annotations

from datetime import datetime

from amends.incidents.services.notify import incident_rounds_sweep


def rounds_sweep(*, now: datetime) -> int:
    """One batch of every notification round still sending (resumes an interrupted round)."""
    return incident_rounds_sweep(now=now)

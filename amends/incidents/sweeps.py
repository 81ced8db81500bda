"""Periodic work for `amends worker` / `amends sweep` (listed in AMENDS_SWEEPS)."""

from __future__ import annotations

from datetime import datetime

from amends.incidents.services.notify import incident_rounds_sweep
from amends.incidents.services.reactions import impacts_choices_sync


def rounds_sweep(*, now: datetime) -> int:
    """One batch of every notification round still sending (resumes an interrupted round)."""
    return incident_rounds_sweep(now=now)


def choices_sweep(*, now: datetime) -> int:
    """Customers who chose from their incident menu since the last run (if a hook was missed)."""
    return impacts_choices_sync(now=now)

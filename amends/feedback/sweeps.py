"""Periodic work of the feedback app (listed in AMENDS_SWEEPS)."""

from __future__ import annotations

from datetime import datetime

from amends.feedback.services.dispatch import survey_sweep as _survey_sweep


def survey_sweep(*, now: datetime) -> int:
    """Send due recovery surveys, remind once, expire unanswered links."""
    return _survey_sweep(now=now)

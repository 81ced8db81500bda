"""Typed access to Amends' own settings: the one way code reads them.

Most live in the AMENDS dict in config/settings/base.py; a few lists that several apps extend
(AMENDS_SWEEPS, …) are top-level `AMENDS_<NAME>` settings. `amends_setting("SWEEPS")` finds
either, the dict first.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings


def amends_setting(name: str, default: Any = None) -> Any:
    values = getattr(settings, "AMENDS", {})
    if name in values:
        return values[name]
    return getattr(settings, f"AMENDS_{name}", default)

"""Typed access to Amends' own settings (the AMENDS dict in config/settings/base.py)."""

from __future__ import annotations

from typing import Any

from django.conf import settings


def amends_setting(name: str, default: Any = None) -> Any:
    return getattr(settings, "AMENDS", {}).get(name, default)

"""Settings of the channels app, with their defaults (config/settings/base.py sets them)."""

from __future__ import annotations

from email.utils import parseaddr
from pathlib import Path

from django.conf import settings

from amends.core.conf import amends_setting
from config.env import data_dir


def public_base_url() -> str:
    return str(amends_setting("PUBLIC_BASE_URL", "http://127.0.0.1:8000")).rstrip("/")


def setting_int(name: str, default: int) -> int:
    value = amends_setting(name, default)
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def from_address() -> str:
    return str(amends_setting("MAIL_FROM", "") or settings.DEFAULT_FROM_EMAIL)


def mail_domain() -> str:
    """The domain of our Message-IDs; mail whose ids end in it came from us."""
    configured = str(amends_setting("MAIL_DOMAIN", "") or "")
    if configured:
        return configured.lower()
    address = parseaddr(from_address())[1]
    return (address.rpartition("@")[2] or "localhost").lower()


def storage_dir(name: str, default_subdir: str) -> Path:
    """A directory for stored mail or files, outside the web root (the data directory)."""
    configured = str(amends_setting(name, "") or "")
    path = Path(configured) if configured else data_dir() / default_subdir
    path.mkdir(parents=True, exist_ok=True)
    return path

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from amends.channels.services.webhooks import webhook_cache_clear

MAIL = Path(__file__).parent / "mail"


@pytest.fixture(autouse=True)
def _channels_storage(settings: Any, tmp_path: Path) -> Iterator[Path]:
    """Mail, quarantine and attachments of each test in its own directory."""
    settings.AMENDS = {
        **settings.AMENDS,
        "MAIL_DIR": str(tmp_path / "mail"),
        "ATTACHMENT_DIR": str(tmp_path / "attachments"),
        "MAIL_FROM": "amends@amends.test",
    }
    webhook_cache_clear()
    yield tmp_path
    webhook_cache_clear()


def eml(name: str, **values: str) -> bytes:
    """A message of the test corpus with its {{PLACEHOLDERS}} filled in."""
    text = (MAIL / name).read_text(encoding="utf-8")
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    return text.replace("\n", "\r\n").encode("utf-8")

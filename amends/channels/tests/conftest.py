from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

MAIL = Path(__file__).parent / "mail"


@pytest.fixture(autouse=True)
def _channels_storage(settings: Any, tmp_path: Path) -> Path:
    """Mail, quarantine and attachments of each test in its own directory."""
    settings.AMENDS = {
        **settings.AMENDS,
        "MAIL_DIR": str(tmp_path / "mail"),
        "ATTACHMENT_DIR": str(tmp_path / "attachments"),
        "MAIL_FROM": "amends@amends.test",
    }
    return tmp_path


def eml(name: str, **values: str) -> bytes:
    """A message of the test corpus with its {{PLACEHOLDERS}} filled in."""
    text = (MAIL / name).read_text(encoding="utf-8")
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    return text.replace("\n", "\r\n").encode("utf-8")

"""Reading a raw message: each header is parsed once, however often the reader asks."""

from __future__ import annotations

from collections import Counter
from email.headerregistry import BaseHeader, HeaderRegistry
from typing import Any

from amends.channels.mime import parse
from amends.channels.tests.conftest import eml


def test_parse_parses_each_header_once(monkeypatch: Any) -> None:
    parsed: Counter[tuple[str, str]] = Counter()
    original = HeaderRegistry.__call__

    def counting(self: HeaderRegistry, name: str, value: str) -> BaseHeader:
        parsed[(name.lower(), value)] += 1
        return original(self, name, value)

    monkeypatch.setattr(HeaderRegistry, "__call__", counting)
    mail, _ = parse(eml("multipart_alternative.eml"), own_address="", max_attachment=10**6)
    assert mail.text
    assert mail.from_address
    # Content-Type is read for the type, the charset, the file name… of every part.
    assert sum(1 for name, _ in parsed if name == "content-type") == 3
    assert max(parsed.values()) == 1


def test_parse_decodes_rfc2047_headers() -> None:
    mail, _ = parse(eml("rfc2047.eml"), own_address="", max_attachment=10**6)
    assert mail.subject == "Commande non livrée — ☹"
    assert (mail.from_name, mail.from_address) == ("Éloïse Lévy", "eloise@example.fr")

from __future__ import annotations

from email import message_from_bytes
from typing import Any

import pytest

from amends.cases.models import Case
from amends.channels.models import Mailbox
from amends.channels.services.imap import mailboxes_poll
from amends.channels.tests.conftest import eml

pytestmark = pytest.mark.django_db


class FakeMessage:
    def __init__(self, uid: str, raw: bytes) -> None:
        self.uid = uid
        self.obj = message_from_bytes(raw)


class FakeServer:
    """Stands in for imap_tools.MailBox: what was fetched, moved and flagged."""

    messages: list[FakeMessage] = []
    moved: list[tuple[str, str]] = []
    flagged: list[str] = []
    logins: list[tuple[str, str, str]] = []
    fail: bool = False

    def __init__(self, host: str, port: int = 993, timeout: int = 60) -> None:
        self.host = host

    def login(self, user: str, password: str, initial_folder: str = "INBOX") -> FakeServer:
        if FakeServer.fail:
            raise ConnectionRefusedError("imap down")
        FakeServer.logins.append((user, password, initial_folder))
        return self

    def __enter__(self) -> FakeServer:
        return self

    def __exit__(self, *args: Any) -> None:
        pass

    def fetch(self, criteria: Any, limit: int, mark_seen: bool, bulk: int) -> list[FakeMessage]:
        assert mark_seen is False  # marked only after it is stored
        return FakeServer.messages[:limit]

    def move(self, uid: str, folder: str) -> None:
        FakeServer.moved.append((uid, folder))

    def flag(self, uid: str, flag: Any, value: bool) -> None:
        FakeServer.flagged.append(uid)


@pytest.fixture
def server(monkeypatch: Any) -> type[FakeServer]:
    import imap_tools

    FakeServer.messages = [
        FakeMessage("1", eml("multipart_alternative.eml")),
        FakeMessage("2", eml("no_sender.eml")),
    ]
    FakeServer.moved, FakeServer.flagged, FakeServer.logins, FakeServer.fail = [], [], [], False
    monkeypatch.setattr(imap_tools, "MailBox", FakeServer)
    monkeypatch.setenv("SUPPORT_IMAP_PASSWORD", "s3cret")
    return FakeServer


def test_mailboxes_poll_ingests_and_moves_what_it_took(server: type[FakeServer]) -> None:
    Mailbox.objects.create(
        name="Support",
        host="imap.example.com",
        username="support",
        password_env="SUPPORT_IMAP_PASSWORD",
        processed_folder="Amends",
    )
    (result,) = mailboxes_poll()
    assert (result.taken, result.quarantined, result.error) == (1, 1, "")
    assert server.logins == [("support", "s3cret", "INBOX")]
    assert server.moved == [("1", "Amends"), ("2", "Amends")]
    assert Case.objects.count() == 1
    assert Mailbox.objects.get().last_polled_at is not None


def test_mailboxes_poll_flags_seen_without_a_processed_folder(server: type[FakeServer]) -> None:
    Mailbox.objects.create(name="Support", host="imap.example.com", username="support")
    mailboxes_poll()
    mailboxes_poll()  # the same messages again: stored once
    assert server.flagged == ["1", "2", "1", "2"]
    assert Case.objects.count() == 1


def test_mailboxes_poll_records_a_server_error(server: type[FakeServer]) -> None:
    server.fail = True
    Mailbox.objects.create(name="Support", host="imap.example.com", username="support")
    (result,) = mailboxes_poll()
    assert "imap down" in result.error
    assert "imap down" in Mailbox.objects.get().last_error

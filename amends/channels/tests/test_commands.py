from __future__ import annotations

import io
import mailbox
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command, execute_from_command_line
from django.core.management.base import BaseCommand

from amends.cases.models import Case
from amends.channels.tests.conftest import eml

pytestmark = pytest.mark.django_db


def _ingest(monkeypatch: Any, raw: bytes, *args: str) -> str:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw)))
    out = io.StringIO()
    call_command("mail_ingest", *args, stdout=out)
    return out.getvalue()


def test_mail_ingest_command_prints_the_case_ref_last(monkeypatch: Any) -> None:
    output = _ingest(monkeypatch, eml("multipart_alternative.eml"))
    case = Case.objects.get()
    assert output.strip().splitlines()[-1] == case.ref


def test_mail_ingest_command_prints_why_it_ignored(monkeypatch: Any) -> None:
    output = _ingest(monkeypatch, eml("x_autoreply.eml"))
    assert output.strip().splitlines()[-1] == "ignored: auto-reply"


def test_mail_ingest_command_fails_and_quarantines_unreadable_mail(
    monkeypatch: Any, tmp_path: Path
) -> None:
    with pytest.raises(CommandError, match="quarantined: no sender address"):
        _ingest(monkeypatch, eml("no_sender.eml"))
    assert list((tmp_path / "mail" / "quarantine").rglob("*.eml"))


def test_mail_ingest_command_reads_an_mbox(tmp_path: Path) -> None:
    box = mailbox.mbox(tmp_path / "in.mbox")
    for name in ("multipart_alternative.eml", "html_only.eml", "x_autoreply.eml"):
        box.add(eml(name))
    box.flush()
    out = io.StringIO()
    call_command("mail_ingest", str(tmp_path / "in.mbox"), stdout=out)
    lines = out.getvalue().strip().splitlines()
    assert "messages=3 quarantined=0" in lines
    assert lines[-1] == "ignored: auto-reply"
    assert Case.objects.count() == 2


def test_mail_ingest_command_reads_a_maildir_twice_without_duplicates(tmp_path: Path) -> None:
    box = mailbox.Maildir(tmp_path / "Maildir")
    box.add(eml("multipart_alternative.eml"))
    box.add(eml("rfc2047.eml"))
    for _ in range(2):
        call_command("mail_ingest", str(tmp_path / "Maildir"), stdout=io.StringIO())
    assert Case.objects.count() == 2


def _maildir(tmp_path: Path, names: tuple[str, ...]) -> tuple[Path, list[str]]:
    box = mailbox.Maildir(tmp_path / "Maildir")
    keys = [box.add(eml(name)) for name in names]
    return tmp_path / "Maildir", keys


MAILS = ("multipart_alternative.eml", "rfc2047.eml", "html_only.eml", "iso_8859_1.eml")


def test_mail_ingest_command_takes_a_mailbox_in_groups(tmp_path: Path, monkeypatch: Any) -> None:
    from amends.channels.management.commands import mail_ingest as command

    monkeypatch.setattr(command, "GROUP_MESSAGES", 3)
    path, keys = _maildir(tmp_path, MAILS)
    out = io.StringIO()
    call_command("mail_ingest", str(path), stdout=out)
    lines = out.getvalue().strip().splitlines()
    assert "messages=4 quarantined=0" in lines
    assert sorted(line.split(":")[0] for line in lines[:4]) == sorted(keys)
    assert Case.objects.count() == 4


def test_mail_ingest_command_keeps_the_messages_before_an_unexpected_error(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """A message that fails in a way the command does not expect is rolled back to its own
    savepoint; the messages taken before it in its group are committed and printed, and the
    command stops with the error (a second run takes the rest: the mailbox is not changed)."""
    from amends.channels.management.commands import mail_ingest as command
    from amends.channels.services.inbound import mail_ingest as real

    path, _ = _maildir(tmp_path, MAILS)
    calls: list[bytes] = []

    def failing_third(*, raw: bytes) -> Any:
        calls.append(raw)
        result = real(raw=raw)
        if len(calls) == 3:
            raise RuntimeError("disk on fire")
        return result

    monkeypatch.setattr(command, "mail_ingest", failing_third)
    out = io.StringIO()
    with pytest.raises(RuntimeError, match="disk on fire"):
        call_command("mail_ingest", str(path), stdout=out)
    printed = [line for line in out.getvalue().splitlines() if ": AM-" in line]
    assert len(printed) == 2
    # The third message's case was written and then rolled back with its savepoint.
    assert Case.objects.count() == 2
    monkeypatch.setattr(command, "mail_ingest", real)
    call_command("mail_ingest", str(path), stdout=io.StringIO())
    assert Case.objects.count() == 4


def test_mail_ingest_command_unknown_path_fails(tmp_path: Path) -> None:
    with pytest.raises(CommandError):
        call_command("mail_ingest", str(tmp_path / "nope"), stdout=io.StringIO())


@pytest.mark.parametrize(
    ("command", "last"), [("mail_poll", "no active mailboxes"), ("mail_ingest", "AM-")]
)
def test_mail_commands_run_by_cron_or_the_mail_server_skip_the_system_checks(
    command: str, last: str, monkeypatch: Any, capsys: Any
) -> None:
    # As the command line runs them (call_command never checks): the checks would import the
    # whole URLconf on every run.
    def checked(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("system checks ran")

    monkeypatch.setattr(BaseCommand, "check", checked)
    raw = eml("multipart_alternative.eml")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw)))
    execute_from_command_line(["amends", command])
    assert capsys.readouterr().out.strip().splitlines()[-1].startswith(last)

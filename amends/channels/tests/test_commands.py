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

"""`amends mail ingest [PATH]`: one raw message from stdin (a mail server's pipe), or every
message of a Maildir directory or an mbox file. The last line printed is the case reference
the (last) message landed on, or `ignored: <why>`."""

from __future__ import annotations

import mailbox
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from amends.channels.services.inbound import MailQuarantinedError, mail_ingest, mail_max_bytes


class Command(BaseCommand):
    help = "Take inbound email: one message on stdin, or a Maildir directory / mbox file."
    # A mail server runs this once per message: Django's system checks would import the whole
    # URLconf (every API schema) each time for nothing. `amends check` and CI run them.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", nargs="?", help="A Maildir directory or an mbox file.")

    def handle(self, *args: Any, **options: Any) -> None:
        path = options.get("path")
        if not path:
            raw = sys.stdin.buffer.read(mail_max_bytes() + 1)
            try:
                result = mail_ingest(raw=raw)
            except MailQuarantinedError as exc:
                raise CommandError(f"quarantined: {exc.reason} ({exc.path})") from exc
            self.stdout.write(result.line)
            return
        source = Path(path)
        if source.is_dir():
            box: mailbox.Mailbox[Any] = mailbox.Maildir(source, factory=None, create=False)
        elif source.is_file():
            box = mailbox.mbox(source, factory=None, create=False)
        else:
            raise CommandError(f"{path}: no such Maildir or mbox")
        taken = quarantined = 0
        last = "ignored: empty mailbox"
        for key in box.iterkeys():
            try:
                raw = box.get_bytes(key)
            except Exception as exc:  # an unreadable entry: say so and go on
                quarantined += 1
                self.stderr.write(f"{key}: unreadable ({exc})")
                continue
            try:
                result = mail_ingest(raw=raw)
            except MailQuarantinedError as exc:
                quarantined += 1
                self.stderr.write(f"{key}: quarantined: {exc.reason} ({exc.path})")
                continue
            taken += 1
            last = result.line
            self.stdout.write(f"{key}: {last}")
        self.stdout.write(f"messages={taken} quarantined={quarantined}")
        self.stdout.write(last)
        if quarantined:
            raise CommandError(f"{quarantined} message(s) quarantined")

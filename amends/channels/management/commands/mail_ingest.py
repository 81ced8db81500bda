"""`amends mail ingest [PATH]`: one raw message from stdin (a mail server's pipe), or every
message of a Maildir directory or an mbox file. The last line printed is the case reference
the (last) message landed on, or `ignored: <why>`."""

from __future__ import annotations

import mailbox
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from amends.channels.services.inbound import MailQuarantinedError, mail_ingest, mail_max_bytes

# A mailbox is taken in groups of messages, each group one transaction (`Command._group`).
GROUP_MESSAGES = 50
GROUP_SECONDS = 0.5


@dataclass
class _Tally:
    taken: int = 0
    quarantined: int = 0
    last: str = "ignored: empty mailbox"


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
        tally = _Tally()
        keys = iter(box.iterkeys())
        more = True
        while more:
            lines, failure, more = self._group(box, keys, tally)
            # Printed once committed: a line names a message the database holds.
            for line in lines:
                self.stdout.write(line)
            if failure is not None:
                raise failure
        self.stdout.write(f"messages={tally.taken} quarantined={tally.quarantined}")
        self.stdout.write(tally.last)
        if tally.quarantined:
            raise CommandError(f"{tally.quarantined} message(s) quarantined")

    def _group(
        self, box: mailbox.Mailbox[Any], keys: Iterator[str], tally: _Tally
    ) -> tuple[list[str], BaseException | None, bool]:
        """Take the next messages in one transaction: up to GROUP_MESSAGES of them, or as many
        as GROUP_SECONDS allow. Each has a savepoint of its own, so a message that fails
        leaves the others; the group's one commit spares a durable commit per message (on
        PostgreSQL a flush of the write-ahead log each). An error the command does not expect
        stops it after the messages before it are committed. Returns the lines to print, that
        error, and whether messages may remain."""
        lines: list[str] = []
        started = time.monotonic()
        with transaction.atomic():
            for count, key in enumerate(keys, 1):
                try:
                    raw = box.get_bytes(key)
                except Exception as exc:  # an unreadable entry: say so and go on
                    tally.quarantined += 1
                    self.stderr.write(f"{key}: unreadable ({exc})")
                    continue
                try:
                    with transaction.atomic():
                        result = mail_ingest(raw=raw)
                except MailQuarantinedError as exc:
                    tally.quarantined += 1
                    self.stderr.write(f"{key}: quarantined: {exc.reason} ({exc.path})")
                    continue
                except Exception as exc:  # rolled back to its savepoint; the rest is kept
                    return lines, exc, False
                tally.taken += 1
                tally.last = result.line
                lines.append(f"{key}: {result.line}")
                if count >= GROUP_MESSAGES or time.monotonic() - started >= GROUP_SECONDS:
                    return lines, None, True
        return lines, None, False

"""`amends mail poll`: fetch new mail from every active IMAP mailbox (over TLS), ingest it,
and mark what was taken (moved to the processed folder, or flagged seen). Safe from cron and
from the worker: a message is marked only after it is stored, and ingesting it twice stores it
once (Message-ID)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from amends.channels.services.imap import mailboxes_poll


class Command(BaseCommand):
    help = "Fetch and ingest new mail from the IMAP mailboxes configured in the admin."
    # Run from cron every few minutes: Django's system checks would import the whole URLconf
    # (every API schema) each time for nothing. `amends check` and CI run them.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=500, help="Messages per mailbox.")

    def handle(self, *args: Any, **options: Any) -> None:
        results = mailboxes_poll(limit=max(1, min(options["limit"], 10_000)))
        failed = 0
        for result in results:
            self.stdout.write(
                f"{result.mailbox}: taken={result.taken} quarantined={result.quarantined}"
                + (f" error={result.error}" if result.error else "")
            )
            failed += bool(result.error)
        if not results:
            self.stdout.write("no active mailboxes")
        if failed:
            raise CommandError(f"{failed} mailbox(es) failed")

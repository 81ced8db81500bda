"""`amends import cfpb FILE`: the US CFPB complaint export, idempotent by Complaint ID."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from amends.channels.management.commands._import_common import run_import
from amends.channels.services.imports import BATCH, cfpb_import


class Command(BaseCommand):
    # Django's system checks load the URL configuration and with it the whole API (about
    # two thirds of the command's start); `amends check` and the deployment run them.
    requires_system_checks: list[str] = []
    help = (
        "Import a CFPB complaint export (CSV). Ends with created=N updated=N skipped=N rejected=N."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument("--rejects", help="Reject file (default: FILE.rejects.csv).")
        parser.add_argument("--batch", type=int, default=BATCH, help="Rows per transaction.")
        parser.add_argument("--progress", action="store_true", default=None)
        parser.add_argument("--no-progress", dest="progress", action="store_false")

    def handle(self, *args: Any, **options: Any) -> None:
        batch = max(1, min(int(options["batch"]), 20_000))
        run_import(
            options["file"],
            options.get("rejects"),
            options.get("progress"),
            lambda **kw: cfpb_import(batch=batch, **kw),
            self.stdout.write,
        )

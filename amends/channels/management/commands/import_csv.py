"""`amends import csv FILE --mapping MAPPING`: any CSV of complaints, with a JSON mapping of
our fields to its columns (docs/channels.md), idempotent by the mapped source id."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from amends.channels.management.commands._import_common import run_import
from amends.channels.services.imports import BATCH, ImportHeaderError, Mapping, csv_import


class Command(BaseCommand):
    help = "Import complaints from a CSV file with a column mapping (JSON)."
    # As `import cfpb`: the system checks would load the whole API first (`amends check` runs them).
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument("--mapping", required=True, help="JSON mapping file.")
        parser.add_argument("--rejects", help="Reject file (default: FILE.rejects.csv).")
        parser.add_argument("--batch", type=int, default=BATCH)
        parser.add_argument("--progress", action="store_true", default=None)
        parser.add_argument("--no-progress", dest="progress", action="store_false")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            mapping = Mapping.load(Path(options["mapping"]))
        except ImportHeaderError as exc:
            raise CommandError(exc.message) from exc
        batch = max(1, min(int(options["batch"]), 20_000))
        run_import(
            options["file"],
            options.get("rejects"),
            options.get("progress"),
            lambda **kw: csv_import(mapping=mapping, batch=batch, **kw),
            self.stdout.write,
        )

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from amends.core.backup import BackupError, database_backup


class Command(BaseCommand):
    help = (
        "Back up the whole database to FILE while Amends keeps running: amends backup FILE "
        "(SQLite: online backup API; PostgreSQL: pg_dump custom format)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--database", default="default")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            database_backup(path=opts["file"], alias=opts["database"])
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Backed up the database to {opts['file']}.")

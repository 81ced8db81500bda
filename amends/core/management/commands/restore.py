from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from amends.core.backup import BackupError, database_restore


class Command(BaseCommand):
    help = (
        "Replace the whole database with a backup made by `amends backup`: amends restore FILE. "
        "Stop the web server and worker first."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--database", default="default")
        parser.add_argument(
            "--noinput",
            "--no-input",
            action="store_false",
            dest="interactive",
            help="Do not ask for confirmation.",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["interactive"]:
            answer = input(
                f"This replaces every row in the database with {opts['file']}. Type 'yes': "
            )
            if answer.strip().lower() != "yes":
                raise CommandError("Restore cancelled.")
        try:
            database_restore(path=opts["file"], alias=opts["database"])
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Restored the database from {opts['file']}.")

"""`amends sweep`: run every periodic sweep once, print what each did, exit (cron, scripts)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from amends.core.sweeps import sweeps_run


class Command(BaseCommand):
    help = "Run every periodic sweep (settings.AMENDS_SWEEPS) once and exit."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--strict",
            action="store_true",
            help="Fail if a configured sweep cannot be imported.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        results = sweeps_run(now=timezone.now(), strict=options["strict"])
        failed = [path for path, count in results.items() if count < 0]
        for path, count in results.items():
            self.stdout.write(f"{path}: {'FAILED' if count < 0 else count}")
        if failed:
            raise CommandError(f"{len(failed)} sweep(s) failed; see the log.")

"""`amends kpi rebuild [--since YYYY-MM-DD]`: recompute KPI facts and daily sums."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from amends.feedback.services.kpis import kpi_rebuild


class Command(BaseCommand):
    help = "Recompute every resolved case's KPI facts and the daily sums (re-runnable)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", help="Only cases resolved on or after this UTC date.")

    def handle(self, *args: Any, **options: Any) -> None:
        since = None
        if options["since"]:
            try:
                since = datetime.fromisoformat(options["since"]).replace(tzinfo=UTC)
            except ValueError as exc:
                raise CommandError("--since takes a date like 2026-01-31.") from exc
        result = kpi_rebuild(since=since)
        self.stdout.write(f"{result['facts']} case facts, {result['buckets']} daily sums rebuilt.")

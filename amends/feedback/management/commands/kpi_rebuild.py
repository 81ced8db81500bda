"""`amends kpi rebuild [--since YYYY-MM-DD] [--sums-only]`: recompute KPI facts and sums."""

from __future__ import annotations

import time
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from amends.core.organisation import organisation, organisation_days
from amends.feedback.services.kpis import kpi_rebuild, kpi_sums_rebuild


class Command(BaseCommand):
    help = (
        "Recompute every resolved case's KPI facts and the daily and monthly sums by the "
        "organisation's days (re-runnable). --sums-only rebuilds only the sums: run it after "
        "changing the organisation's time zone."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--since",
            help="Only from this day on (YYYY-MM-DD, a day in the organisation's time zone): "
            "the cases resolved since, and the sums from the first of that day's month.",
        )
        parser.add_argument(
            "--sums-only",
            action="store_true",
            help="Keep the case facts; rebuild the daily and monthly sums from the facts, "
            "answers, compliments and approval decisions (after a time zone change).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        since: date | None = None
        if options["since"]:
            try:
                since = date.fromisoformat(options["since"].strip()[:10])
            except ValueError as exc:
                raise CommandError("--since takes a date like 2026-01-31.") from exc
        started = time.monotonic()
        zone = organisation().time_zone
        if options["sums_only"]:
            sums = kpi_sums_rebuild(since=since)
            self.stdout.write(
                f"{sums['days']} daily and {sums['months']} monthly sums rebuilt by the days "
                f"of {zone} in {time.monotonic() - started:.1f} s."
            )
            return
        moment = organisation_days(since, since)[0] if since is not None else None
        result = kpi_rebuild(since=moment)
        self.stdout.write(
            f"{result['facts']} case facts, {result['buckets']} daily and {result['months']} "
            f"monthly sums rebuilt by the days of {zone} in {time.monotonic() - started:.1f} s."
        )

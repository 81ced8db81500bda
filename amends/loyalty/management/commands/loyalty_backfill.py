from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from amends.loyalty.services.backfill import facts_backfill, risks_backfill, rollups_rebuild


class Command(BaseCommand):
    help = (
        "Build the loyalty tables (failure facts, daily rollups, risk scores) from the cases "
        "already in the database: `amends loyalty backfill`. Re-runnable; the hooks keep them "
        "current afterwards."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", type=int, default=5000)
        parser.add_argument(
            "--skip-facts", action="store_true", help="Only rebuild rollups and scores"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        batch = max(100, min(50_000, options["batch"]))
        start = time.monotonic()
        if not options["skip_facts"]:
            facts = facts_backfill(batch=batch)
            self.stdout.write(f"{facts} facts in {time.monotonic() - start:.1f} s")
        rollups = rollups_rebuild()
        self.stdout.write(f"{rollups} rollup rows in {time.monotonic() - start:.1f} s")
        risks = risks_backfill(batch=batch)
        self.stdout.write(f"{risks} risk scores in {time.monotonic() - start:.1f} s")

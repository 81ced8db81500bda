from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from amends.loyalty.services.backfill import (
    facts_backfill,
    facts_history_rebuild,
    risks_backfill,
    rollups_rebuild,
)


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
        parser.add_argument(
            "--rollups-only",
            action="store_true",
            help="Only rebuild the daily rollups and each failure's previous one in its key "
            "(the operations report's tables) from the facts",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        batch = max(100, min(50_000, options["batch"]))
        start = time.monotonic()
        if not (options["skip_facts"] or options["rollups_only"]):
            facts = facts_backfill(batch=batch)
            self.stdout.write(f"{facts} facts in {time.monotonic() - start:.1f} s")
        else:
            moved = facts_history_rebuild()
            self.stdout.write(f"{moved} facts' key history in {time.monotonic() - start:.1f} s")
        rollups = rollups_rebuild()
        self.stdout.write(f"{rollups} rollup rows in {time.monotonic() - start:.1f} s")
        if options["rollups_only"]:
            return
        risks = risks_backfill(batch=batch)
        self.stdout.write(f"{risks} risk scores in {time.monotonic() - start:.1f} s")

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from amends.demo.services.build import DEMO_PASSWORD, cfpb_csv_path, demo_build


class Command(BaseCommand):
    help = (
        "Build a demo organisation (teams, staff, customers, playbooks and several hundred cases "
        "in every state) through the real services: amends seed-demo [--if-empty]"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--cases", type=int, default=300, help="How many cases (default 300)")
        parser.add_argument("--seed", type=int, default=2026, help="Random seed (default 2026)")
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when the database already has cases (safe to re-run)",
        )
        parser.add_argument(
            "--no-cfpb",
            action="store_true",
            help="Use only the built-in complaint texts, even if the CFPB sample is present",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["cases"] < 0:
            self.stderr.write("--cases must be 0 or more.")
            raise SystemExit(2)
        csv_path: Path | None = None if opts["no_cfpb"] else cfpb_csv_path()
        started = time.monotonic()
        result = demo_build(
            cases=opts["cases"],
            seed=opts["seed"],
            if_empty=opts["if_empty"],
            cfpb_csv=csv_path,
            progress=lambda text: self.stdout.write(f"  … {text}"),
        )
        if result.skipped:
            self.stdout.write("The database already has cases; the demo was not seeded again.")
        else:
            self.stdout.write(
                f"Seeded {result.cases} cases for {result.customers} customers from "
                f"{result.source} in {time.monotonic() - started:.1f}s; "
                f"{result.recovery.get('remedies', 0)} remedies, "
                f"{result.recovery.get('promises', 0)} promises "
                f"({result.recovery.get('broken', 0)} broken); a flight delay under EU 261 "
                f"with {result.incident.get('affected', 0)} passengers notified, "
                f"{result.incident.get('chose', 0)} of whom chose their remedy."
            )
        self.stdout.write(f"\nDemo logins (password for all: {DEMO_PASSWORD}):")
        for username, role, team in result.staff:
            self.stdout.write(f"  {username:<8} {role:<11} {team}")

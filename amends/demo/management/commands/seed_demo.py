from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from amends.core.conf import amends_setting
from amends.demo.services.build import (
    DEMO_PASSWORD,
    cfpb_csv_path,
    demo_build,
    narratives_csv_path,
)
from amends.insight.services.triage import triage_train_from_csv


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
        parser.add_argument(
            "--no-triage",
            action="store_true",
            help=(
                "Do not train the triage model, even when TRIAGE_MODEL names a file that does "
                "not exist yet and the CFPB narratives are present"
            ),
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["cases"] < 0:
            self.stderr.write("--cases must be 0 or more.")
            raise SystemExit(2)
        csv_path: Path | None = None if opts["no_cfpb"] else cfpb_csv_path()
        started = time.monotonic()
        if not opts["no_triage"]:
            self._train_triage()
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

    def _train_triage(self) -> None:
        """Train the triage model the demo's intake uses (TRIAGE_MODEL) from the labelled CFPB
        narratives, once: before the cases are built, so new cases get their suggestions."""
        configured = str(amends_setting("TRIAGE_MODEL", "") or "")
        narratives = narratives_csv_path()
        if not configured or Path(configured).is_file() or narratives is None:
            return
        started = time.monotonic()
        self.stdout.write(f"  … training the triage model on {narratives.name}")
        Path(configured).parent.mkdir(parents=True, exist_ok=True)
        result = triage_train_from_csv(
            path=narratives,
            text_column="Consumer complaint narrative",
            label_column="Product",
            out=configured,
            cross_validate=False,
        )
        summary = result.summary()
        self.stdout.write(
            f"  … triage model {summary['version']} trained on {summary['n']} narratives "
            f"in {time.monotonic() - started:.1f}s: {configured}"
        )

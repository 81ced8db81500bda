"""`amends export cases`: every case (or what --user may see) as CSV or JSON Lines."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser

from amends.cases.selectors import CaseFilters
from amends.channels.services.exports import cases_export, cases_for_export
from amends.core.exceptions import ApplicationError


class Command(BaseCommand):
    help = "Export cases as CSV or JSON Lines, with the API's filters."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=["csv", "jsonl"], default="csv")
        parser.add_argument("--output", "-o", help="File to write (default: standard output).")
        parser.add_argument("--user", help="Export only what this staff user may see.")
        parser.add_argument("--status")
        parser.add_argument("--team", type=int)
        parser.add_argument("--category", type=int)
        parser.add_argument("--severity", type=int, choices=[1, 2, 3, 4])
        parser.add_argument("--customer", type=int)
        parser.add_argument("--sla-state", dest="sla_state")
        parser.add_argument("--open", action="store_true", dest="open_only")

    def handle(self, *args: Any, **options: Any) -> None:
        user = None
        if options.get("user"):
            user = User.objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"no user {options['user']!r}")
        filters = CaseFilters(
            status=options.get("status"),
            team_id=options.get("team"),
            category_id=options.get("category"),
            severity=options.get("severity"),
            customer_id=options.get("customer"),
            sla_state=options.get("sla_state"),
            open_only=bool(options.get("open_only")),
        )
        try:
            qs = cases_for_export(user=user, filters=filters)
            if options.get("output"):
                with Path(options["output"]).open("w", encoding="utf-8", newline="") as out:
                    count = cases_export(qs=qs, out=out, fmt=options["format"])
                self.stderr.write(f"exported={count}")
            else:
                cases_export(qs=qs, out=sys.stdout, fmt=options["format"])
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser

from amends.core.exceptions import ApplicationError
from amends.loyalty.services.status import MAX_CSV_BYTES, cancellations_import


class Command(BaseCommand):
    help = (
        "Mark the customers in a cancellations CSV as lost: `amends loyalty cancellations FILE` "
        "(columns external_ref, reason, cancelled_on). All or nothing: one unknown reference "
        "rejects the file."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="Path of the CSV file, or - for standard input")
        parser.add_argument("--as", dest="username", help="Staff member recorded as the actor")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = None
        if options["username"]:
            actor = User.objects.filter(username=options["username"]).first()
            if actor is None:
                raise CommandError(f"No user {options['username']!r}.")
        path = options["file"]
        try:
            if path == "-":
                import sys

                data = sys.stdin.buffer.read(MAX_CSV_BYTES + 1)
            else:
                with Path(path).open("rb") as handle:
                    data = handle.read(MAX_CSV_BYTES + 1)
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from exc
        try:
            result = cancellations_import(data=data, actor=actor)
        except ApplicationError as exc:
            lines = [exc.message, *[str(r) for r in (exc.detail or {}).get("rows", [])]]
            raise CommandError("\n".join(lines)) from exc
        self.stdout.write(f"{result.marked} marked lost, {result.already_lost} already lost.")

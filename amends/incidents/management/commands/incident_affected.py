"""`amends incident affected INCIDENT FILE`: add affected customers from a CSV, streaming."""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path
from typing import Any, TextIO

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser

from amends.core.exceptions import ApplicationError
from amends.incidents.models import Incident
from amends.incidents.services.csv_rows import affected_rows_from_csv
from amends.incidents.services.impacts import MAX_BATCH, AddResult, AffectedRow, impacts_add


def _incident(value: str) -> Incident:
    digits = value.upper().removeprefix("INC-")
    if not digits.isdigit() or len(digits) > 18:
        raise CommandError(f"{value!r} is not an incident id (e.g. 12 or INC-00012).")
    incident = Incident.objects.filter(pk=int(digits)).first()
    if incident is None:
        raise CommandError(f"No incident {value}.")
    return incident


class Command(BaseCommand):
    help = (
        "Add the customers an incident affected from a CSV file (or - for stdin): a column "
        "external_ref (or customer_ref/ref), optional name, email, magnitude, and any policy "
        "inputs (distance_km, intra_eu, notice_days, …). Streams the file in batches; adding "
        "a customer twice changes nothing. Last line: added=N already=N rejected=N."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("incident", help="Incident id, e.g. 12 or INC-00012")
        parser.add_argument("file", help="CSV path, or - for standard input")
        parser.add_argument("--as", dest="username", required=True, help="Acting staff member")
        parser.add_argument("--batch", type=int, default=5_000, help="Rows per transaction")
        parser.add_argument(
            "--create-missing",
            action="store_true",
            help="Create customers whose reference is unknown (needs a name column)",
        )
        parser.add_argument("--rejects", help="Write rejected rows (line, ref, code, why) here")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = User.objects.filter(
            username=options["username"], is_active=True, staff__isnull=False
        ).first()
        if actor is None:
            raise CommandError(f"No active staff member {options['username']!r}.")
        batch_size = options["batch"]
        if not 1 <= batch_size <= MAX_BATCH:
            raise CommandError(f"--batch must be between 1 and {MAX_BATCH}.")
        incident = _incident(options["incident"])
        total = AddResult()
        try:
            with self._open(options["file"]) as handle:
                batch: list[AffectedRow] = []
                for row in affected_rows_from_csv(handle):
                    batch.append(row)
                    if len(batch) >= batch_size:
                        total.merge(self._add(incident, batch, actor, options))
                        batch = []
                if batch:
                    total.merge(self._add(incident, batch, actor, options))
        except (UnicodeDecodeError, csv.Error) as exc:
            self._summary(total)
            raise CommandError(f"The file is not a readable CSV: {exc}") from exc
        except ApplicationError as exc:
            self._summary(total)
            raise CommandError(exc.message) from exc
        if options["rejects"] and total.rejected:
            with open(options["rejects"], "w", newline="", encoding="utf-8") as out:
                writer = csv.writer(out)
                writer.writerow(["line", "external_ref", "code", "message"])
                for r in total.rejected:
                    writer.writerow([r["row"], r["external_ref"], r["code"], r["message"]])
        for r in total.rejected[:20]:
            self.stderr.write(f"line {r['row']}: {r['external_ref']!r}: {r['message']}")
        if len(total.rejected) > 20:
            self.stderr.write(f"… and {len(total.rejected) - 20} more rejected rows")
        self._summary(total)

    def _open(self, path: str) -> TextIO:
        if path == "-":
            return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig", newline="")
        file = Path(path)
        if not file.is_file():
            raise CommandError(f"No file {path}.")
        return file.open(encoding="utf-8-sig", newline="")

    def _add(
        self, incident: Incident, batch: list[AffectedRow], actor: User, options: dict[str, Any]
    ) -> AddResult:
        try:
            result = impacts_add(
                incident=incident,
                rows=batch,
                actor=actor,
                create_missing=options["create_missing"],
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        if options["verbosity"] >= 2:
            self.stdout.write(f"… up to line {batch[-1].line}: added {result.added}")
        return result

    def _summary(self, total: AddResult) -> None:
        self.stdout.write(
            f"added={total.added} already={total.already} rejected={len(total.rejected)}"
        )

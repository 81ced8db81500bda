"""`amends triage train FILE --text-column COL --label-column COL --out MODEL` (or
`--from-cases`): train the triage model, report cross-validated figures, save it versioned."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from amends.core.exceptions import ApplicationError
from amends.insight.services.triage import triage_train_from_cases, triage_train_from_csv


class Command(BaseCommand):
    help = (
        "Train the category classifier on a labelled CSV or on resolved cases; print "
        "cross-validated accuracy and macro-F1 (per category too) and save a versioned model "
        "file. The last line is a JSON object."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", nargs="?", help="A CSV with a text and a label column.")
        parser.add_argument("--text-column", default="text")
        parser.add_argument("--label-column", default="label")
        parser.add_argument("--out", required=True, help="Where to save the model (.skops).")
        parser.add_argument(
            "--from-cases",
            action="store_true",
            help="Train on this organisation's resolved and closed cases instead of a CSV.",
        )
        parser.add_argument(
            "--no-cv", action="store_true", help="Skip cross-validation (faster, no figures)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if bool(options["file"]) == bool(options["from_cases"]):
            raise CommandError("Give a CSV file or --from-cases (one of them).")
        try:
            if options["from_cases"]:
                result = triage_train_from_cases(
                    out=options["out"], cross_validate=not options["no_cv"]
                )
            else:
                result = triage_train_from_csv(
                    path=options["file"],
                    text_column=options["text_column"],
                    label_column=options["label_column"],
                    out=options["out"],
                    cross_validate=not options["no_cv"],
                )
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        summary = result.summary()
        for label, figures in summary["per_label"].items():
            self.stdout.write(
                f"{label}: precision {figures['precision']:.3f} recall {figures['recall']:.3f} "
                f"f1 {figures['f1']:.3f} n {figures['n']}"
            )
        if summary["dropped_labels"]:
            self.stdout.write(
                f"left out (fewer than 3 examples): {', '.join(summary['dropped_labels'])}"
            )
        self.stdout.write(f"saved {summary['model']} (version {summary['version']})")
        self.stdout.write(json.dumps(summary, sort_keys=True))

"""`amends triage evaluate FILE --model MODEL --text-column COL --label-column COL`."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from amends.core.exceptions import ApplicationError
from amends.insight.services.triage import triage_evaluate_csv


class Command(BaseCommand):
    help = "Score a labelled CSV with a triage model; the last line is a JSON object."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument("--model", required=True)
        parser.add_argument("--text-column", default="text")
        parser.add_argument("--label-column", default="label")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            evaluation = triage_evaluate_csv(
                path=options["file"],
                model_path=options["model"],
                text_column=options["text_column"],
                label_column=options["label_column"],
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        for label, figures in evaluation.per_label.items():
            self.stdout.write(
                f"{label}: precision {figures['precision']:.3f} recall {figures['recall']:.3f} "
                f"f1 {figures['f1']:.3f} n {figures['n']}"
            )
        self.stdout.write(json.dumps(evaluation.as_dict(), sort_keys=True))

"""`amends emotion train FILE --text-column COL --label-column COL --positive VALUE --out MODEL`
(or `--from-corrections`): train the upset model on labelled messages."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from amends.core.exceptions import ApplicationError
from amends.insight.services.emotion import (
    emotion_correction_rows,
    emotion_csv_rows,
    emotion_train,
)


class Command(BaseCommand):
    help = (
        "Train the upset model: rows whose label equals --positive are upset, the rest not. "
        "Or train on the scores agents corrected (--from-corrections). The last line is a JSON "
        "object."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", nargs="?")
        parser.add_argument("--text-column", default="text")
        parser.add_argument("--label-column", default="label")
        parser.add_argument("--positive", default="upset", help="The label value meaning upset.")
        parser.add_argument("--out", required=True)
        parser.add_argument("--from-corrections", action="store_true")
        parser.add_argument("--no-cv", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        if bool(options["file"]) == bool(options["from_corrections"]):
            raise CommandError("Give a CSV file or --from-corrections (one of them).")
        try:
            if options["from_corrections"]:
                texts, labels = emotion_correction_rows()
            else:
                texts, labels = emotion_csv_rows(
                    path=options["file"],
                    text_column=options["text_column"],
                    label_column=options["label_column"],
                    positive=options["positive"],
                )
            result = emotion_train(
                texts=texts, labels=labels, out=options["out"], cross_validate=not options["no_cv"]
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        summary = result.summary()
        upset = summary["per_label"].get("upset")
        if upset:
            summary["precision"] = upset["precision"]
            summary["recall"] = upset["recall"]
        self.stdout.write(f"saved {summary['model']} (version {summary['version']})")
        self.stdout.write(json.dumps(summary, sort_keys=True))

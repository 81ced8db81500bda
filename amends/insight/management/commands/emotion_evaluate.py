"""`amends emotion evaluate FILE --text-column COL --label-column COL --positive VALUE
[--model MODEL]`: the upset flag against labelled rows, built-in scorer or a trained model."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from amends.core.exceptions import ApplicationError
from amends.insight.services.emotion import emotion_csv_rows, emotion_evaluate


class Command(BaseCommand):
    help = "Score the upset flag against a labelled CSV; the last line is a JSON object."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument("--text-column", default="text")
        parser.add_argument("--label-column", default="label")
        parser.add_argument("--positive", default="upset", help="The label value meaning upset.")
        parser.add_argument("--model", default="", help="A trained model; default: built-in.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            texts, labels = emotion_csv_rows(
                path=options["file"],
                text_column=options["text_column"],
                label_column=options["label_column"],
                positive=options["positive"],
            )
            result = emotion_evaluate(texts=texts, labels=labels, model_path=options["model"])
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(json.dumps(result, sort_keys=True))

"""The CLI: `amends triage train|evaluate`, `amends emotion train|evaluate` (last line JSON)."""

from __future__ import annotations

import csv
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from amends.accounts.tests.factories import UserFactory
from amends.insight.models import TextScore
from amends.insight.services.scoring import text_score_correct
from amends.insight.tests.conftest import CFPB, airline_rows, held_back, rows_of
from amends.insight.tests.factories import CALM_TEXT, UPSET_TEXT, case_with_text


def run(*args: str) -> dict:
    out = StringIO()
    call_command(*args, stdout=out)
    return json.loads(out.getvalue().strip().splitlines()[-1])


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def cfpb_slices(tmp_path_factory):
    rows = rows_of(CFPB)
    folder = tmp_path_factory.mktemp("cfpb")
    header = ["source_row_index", "Product", "Consumer complaint narrative"]
    pick = lambda part: [[r[c] for c in header] for r in part]  # noqa: E731
    train = [r for r in rows if not held_back(r["source_row_index"])][:400]
    test = [r for r in rows if held_back(r["source_row_index"])][:150]
    return write_csv(folder / "train.csv", header, pick(train)), write_csv(
        folder / "test.csv", header, pick(test)
    )


def test_triage_train_then_evaluate_print_json_last(cfpb_slices, tmp_path):
    train, test = cfpb_slices
    model = tmp_path / "triage.skops"
    trained = run(
        "triage_train",
        str(train),
        "--text-column",
        "Consumer complaint narrative",
        "--label-column",
        "Product",
        "--out",
        str(model),
    )
    assert model.is_file()
    assert trained["n"] >= 390
    assert trained["accuracy"] >= 0.5
    assert "Mortgage" in trained["per_label"]
    evaluated = run(
        "triage_evaluate",
        str(test),
        "--model",
        str(model),
        "--text-column",
        "Consumer complaint narrative",
        "--label-column",
        "Product",
    )
    assert evaluated["n"] == 150
    assert evaluated["accuracy"] >= 0.55
    assert evaluated["macro_f1"] >= 0.2


def test_triage_commands_refuse_bad_input(cfpb_slices, tmp_path):
    train, _ = cfpb_slices
    with pytest.raises(CommandError, match="no column"):
        call_command("triage_train", str(train), "--out", str(tmp_path / "m.skops"))
    with pytest.raises(CommandError, match="No model file"):
        call_command(
            "triage_evaluate",
            str(train),
            "--model",
            str(tmp_path / "missing.skops"),
            "--text-column",
            "Consumer complaint narrative",
            "--label-column",
            "Product",
        )
    with pytest.raises(CommandError):
        call_command("triage_train", "--out", str(tmp_path / "m.skops"))


@pytest.fixture(scope="module")
def airline_slices(tmp_path_factory):
    rows = airline_rows()
    folder = tmp_path_factory.mktemp("airline")
    header = ["row_index", "airline_sentiment", "text"]
    pick = lambda part: [[r[c] for c in header] for r in part]  # noqa: E731
    train = [r for r in rows if not held_back(r["row_index"])][:800]
    test = [r for r in rows if held_back(r["row_index"])][:400]
    return write_csv(folder / "train.csv", header, pick(train)), write_csv(
        folder / "test.csv", header, pick(test)
    )


def test_emotion_evaluate_built_in_scorer(airline_slices):
    _, test = airline_slices
    result = run(
        "emotion_evaluate",
        str(test),
        "--text-column",
        "text",
        "--label-column",
        "airline_sentiment",
        "--positive",
        "negative",
    )
    assert result["n"] == 400
    assert result["scorer"] == "built-in"
    assert result["macro_f1"] >= 0.65
    assert 0 < result["precision"] <= 1
    assert 0 < result["recall"] <= 1


def test_emotion_train_then_evaluate_trained_model(airline_slices, tmp_path):
    train, test = airline_slices
    model = tmp_path / "emotion.skops"
    trained = run(
        "emotion_train",
        str(train),
        "--text-column",
        "text",
        "--label-column",
        "airline_sentiment",
        "--positive",
        "negative",
        "--out",
        str(model),
    )
    assert trained["labels"] == ["not_upset", "upset"]
    assert trained["macro_f1"] >= 0.7
    result = run(
        "emotion_evaluate",
        str(test),
        "--text-column",
        "text",
        "--label-column",
        "airline_sentiment",
        "--positive",
        "negative",
        "--model",
        str(model),
    )
    assert result["scorer"].startswith("emotion-")
    assert result["macro_f1"] >= 0.75


@pytest.mark.django_db
def test_emotion_train_from_corrections(tmp_path):
    agent = UserFactory()
    for n in range(4):
        for text, upset in ((UPSET_TEXT, True), (CALM_TEXT, False)):
            score = TextScore.objects.get(case=case_with_text(f"{text} {n}"))
            text_score_correct(score=score, actor=agent, upset=upset)
    result = run("emotion_train", "--from-corrections", "--out", str(tmp_path / "e.skops"))
    assert result["n"] == 8
    assert result["labels"] == ["not_upset", "upset"]

"""The demo trains its triage model from the labelled narratives before building its cases."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from amends.insight.models import TriagePrediction

pytestmark = pytest.mark.django_db

TEXTS = {
    "Mortgage": "my mortgage escrow payment was misapplied and the servicer added a late fee on "
    "my home loan",
    "Credit card": "the credit card company charged an annual fee and raised my card interest "
    "rate without notice",
    "Debt collection": "a debt collector keeps calling my work about a debt I do not owe and "
    "threatens to sue",
}


def _narratives(path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["source_row_index", "Product", "Consumer complaint narrative"])
        for number in range(10):
            for label, text in TEXTS.items():
                writer.writerow([f"{label[:2]}{number}", label, f"{text} (letter {number})"])
    return path


@pytest.fixture
def demo_triage(tmp_path: Path, settings: Any, monkeypatch: pytest.MonkeyPatch) -> Path:
    model = tmp_path / "models" / "triage.skops"
    settings.AMENDS = {**settings.AMENDS, "TRIAGE_MODEL": str(model)}
    monkeypatch.setenv("AMENDS_DEMO_NARRATIVES_CSV", str(_narratives(tmp_path / "n.csv")))
    return model


def _seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", "--cases", "8", "--no-cfpb", *args, stdout=out)
    return out.getvalue()


def test_seed_demo_trains_the_triage_model_once_before_building_cases(demo_triage: Path) -> None:
    output = _seed()

    assert demo_triage.is_file()
    assert "triage model" in output
    assert "trained on 30 narratives" in output
    # The cases were opened with the model configured: intake stored its suggestions.
    assert TriagePrediction.objects.exists()
    labels = set(TriagePrediction.objects.values_list("label", flat=True))
    assert labels <= set(TEXTS)

    written = demo_triage.stat().st_mtime_ns
    again = _seed("--if-empty")
    assert "training the triage model" not in again
    assert demo_triage.stat().st_mtime_ns == written


def test_seed_demo_no_triage_trains_nothing(demo_triage: Path) -> None:
    output = _seed("--no-triage")

    assert not demo_triage.exists()
    assert "triage model" not in output
    assert not TriagePrediction.objects.exists()

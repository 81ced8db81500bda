"""Small models trained once per test session on slices of the shared development files.

The files are read by path (AMENDS_SHARED_DATA, default ../shared/data next to the repository)
and never copied into the package; a model trained on them lives in a temporary directory."""

from __future__ import annotations

import csv
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from amends.insight import ml

REPO = Path(__file__).resolve().parents[3]
DATA = Path(os.environ.get("AMENDS_SHARED_DATA", REPO.parent / "shared" / "data"))
CFPB = DATA / "cfpb_narratives_product_dev.csv"
AIRLINE = DATA / "airline_sentiment_dev.csv"


def held_back(row_id: str, *, every: int = 5) -> bool:
    """A deterministic fifth of the rows, chosen by a hash of the row id, kept for evaluation."""
    return int(hashlib.sha256(row_id.encode()).hexdigest(), 16) % every == 0


def rows_of(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        pytest.skip(f"shared data not found at {path} (set AMENDS_SHARED_DATA)")
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def airline_rows() -> list[dict[str, str]]:
    return [r for r in rows_of(AIRLINE) if float(r["airline_sentiment_confidence"]) >= 0.9]


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("insight-models")


@pytest.fixture(scope="session")
def triage_model_path(model_dir: Path) -> Path:
    """A triage model trained on 600 development narratives (the held-back fifth excluded)."""
    rows = [r for r in rows_of(CFPB) if not held_back(r["source_row_index"])][:600]
    model, _, _ = ml.model_train(
        ml.TRIAGE,
        [r["Consumer complaint narrative"] for r in rows],
        [r["Product"] for r in rows],
        cross_validate=False,
    )
    return ml.model_save(model, model_dir / "triage.skops")


@pytest.fixture(scope="session")
def emotion_model_path(model_dir: Path) -> Path:
    rows = [r for r in airline_rows() if not held_back(r["row_index"])][:1500]
    model, _, _ = ml.model_train(
        ml.EMOTION,
        [r["text"] for r in rows],
        ["upset" if r["airline_sentiment"] == "negative" else "not_upset" for r in rows],
        cross_validate=False,
    )
    return ml.model_save(model, model_dir / "emotion.skops")


@pytest.fixture
def amends_overrides(settings: Any) -> Any:
    """Change AMENDS keys for one test (the dict is copied, never mutated in place)."""

    def apply(**values: Any) -> None:
        settings.AMENDS = {**settings.AMENDS, **values}

    return apply


@dataclass
class Org:
    team: Any
    other_team: Any
    agent: Any
    supervisor: Any
    outsider: Any
    manager: Any


@pytest.fixture
def org(db: None) -> Org:
    """Two teams: an agent and a supervisor in Billing, an agent in Network, a manager."""
    from amends.accounts.choices import Role
    from amends.accounts.tests.factories import TeamFactory, UserFactory

    team = TeamFactory(name="Billing")
    other = TeamFactory(name="Network")
    return Org(
        team=team,
        other_team=other,
        agent=UserFactory(username="ann", role=Role.AGENT, team=team),
        supervisor=UserFactory(username="sam", role=Role.SUPERVISOR, team=team),
        outsider=UserFactory(username="olga", role=Role.AGENT, team=other),
        manager=UserFactory(username="maria", role=Role.MANAGER, team=None),
    )

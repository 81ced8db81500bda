"""Trained models: the one-message shortcut gives scikit-learn's numbers; files load safely."""

from __future__ import annotations

import numpy as np

from amends.insight import ml
from amends.insight.tests.conftest import CFPB, airline_rows, held_back, rows_of


def test_triage_shortcut_matches_scikit_learn(triage_model_path):
    model = ml.model_load(triage_model_path, kind=ml.TRIAGE)
    texts = [
        r["Consumer complaint narrative"] for r in rows_of(CFPB) if held_back(r["source_row_index"])
    ][:20]
    one_by_one = np.vstack([model.predict_proba([t]) for t in texts])
    batch = model.predict_proba(texts)
    reference = model.pipeline.predict_proba([ml.text_prepare(t) for t in texts])
    assert np.abs(one_by_one - reference).max() < 1e-9
    assert np.abs(batch - reference).max() < 1e-9
    assert model.best(texts[0])[0] == model.pipeline.classes_[reference[0].argmax()]


def test_emotion_shortcut_matches_scikit_learn(emotion_model_path):
    model = ml.model_load(emotion_model_path, kind=ml.EMOTION)
    texts = [r["text"] for r in airline_rows() if held_back(r["row_index"])][:30]
    one_by_one = np.vstack([model.predict_proba([t]) for t in texts])
    reference = model.pipeline.predict_proba([ml.text_prepare(t, ml.EMOTION) for t in texts])
    assert np.abs(one_by_one - reference).max() < 1e-9


def test_model_file_records_kind_version_and_labels(triage_model_path):
    model = ml.model_load(triage_model_path)
    assert model.kind == ml.TRIAGE
    assert model.version.startswith("triage-")
    assert "Mortgage" in model.meta["labels"]


def test_model_cached_reloads_a_replaced_file(tmp_path, emotion_model_path, triage_model_path):
    import os
    import shutil

    path = tmp_path / "m.skops"
    shutil.copy(emotion_model_path, path)
    first = ml.model_cached(str(path), kind=ml.EMOTION)
    assert first is not None
    assert ml.model_cached(str(path), kind=ml.EMOTION) is first
    shutil.copy(triage_model_path, path)
    os.utime(path, (1_900_000_000, 1_900_000_000))
    assert ml.model_cached(str(path), kind=ml.EMOTION) is None  # wrong kind now: refused
    assert ml.model_cached(str(tmp_path / "none.skops"), kind=ml.EMOTION) is None

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


def test_triage_words_keep_a_vocabulary_saved_as_one_array(tmp_path, triage_model_path):
    import skops.io as sio

    model = ml.model_load(triage_model_path, kind=ml.TRIAGE)
    words = dict(model.pipeline.named_steps["features"].transformer_list)["words"]
    # Pruned: no word n-gram seen in a single text only.
    assert "mortgage" in words.vocabulary_
    assert len(words.vocabulary_) > 1000
    # English stop words are left out of the word n-grams (bigrams form across them).
    assert not {"the", "my", "to", "the loan"} & set(words.vocabulary_)
    assert "escrow account" in words.vocabulary_
    raw = sio.load(triage_model_path, trusted=sio.get_untrusted_types(file=triage_model_path))
    terms = raw["vocabularies"]["words"]
    assert isinstance(terms, np.ndarray)
    assert len(terms) == len(words.vocabulary_)
    assert not hasattr(
        dict(raw["pipeline"].named_steps["features"].transformer_list)["words"], "vocabulary_"
    )
    # Saving again gives the same predictions and leaves the model in memory usable.
    texts = ["My mortgage servicer lost my escrow payment.", "A debt collector calls me daily."]
    before = model.predict_proba(texts)
    again = ml.model_load(ml.model_save(model, tmp_path / "again.skops"), kind=ml.TRIAGE)
    assert np.abs(again.predict_proba(texts) - before).max() < 1e-12
    assert np.abs(model.predict_proba(texts) - before).max() == 0


def test_triage_trains_on_a_handful_of_texts():
    texts = [
        "late mortgage payment",
        "mortgage escrow wrong",
        "mortgage servicer lost it",
        "debt collector calls",
        "collector harassing me",
        "debt I never owed",
    ]
    labels = ["Mortgage"] * 3 + ["Debt collection"] * 3
    model, _, _ = ml.model_train(ml.TRIAGE, texts, labels, cross_validate=False)
    assert model.best("my mortgage escrow")[0] == "Mortgage"
    assert model.best("a debt collector")[0] == "Debt collection"


def test_triage_raises_rare_classes_by_their_share(monkeypatch):
    texts = [r["Consumer complaint narrative"] for r in rows_of(CFPB)][:300]
    labels = [r["Product"] for r in rows_of(CFPB)][:300]
    shifted, _, dropped = ml.model_train(ml.TRIAGE, texts, labels, cross_validate=False)
    monkeypatch.setattr(ml, "PRIOR_SHIFT", 0.0)
    plain, _, _ = ml.model_train(ml.TRIAGE, texts, labels, cross_validate=False)
    assert shifted.meta["prior_shift"] == 0.03
    kept = [label for label in labels if label not in dropped]
    share = np.array([kept.count(c) for c in shifted.labels]) / len(kept)

    def intercepts(model: ml.TrainedModel) -> np.ndarray:
        (calibrated,) = model.pipeline.named_steps["classifier"].calibrated_classifiers_
        return np.asarray(calibrated.estimator.intercept_)

    raised = intercepts(shifted) - intercepts(plain)
    # (liblinear shuffles with its own seed: the two fits differ by about 1e-6)
    assert np.abs(raised - (-0.03 * np.log(share))).max() < 1e-4
    # The rarest product is raised most.
    assert raised.argmax() == share.argmin()

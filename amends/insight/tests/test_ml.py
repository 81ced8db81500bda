"""Trained models: the one-message shortcut gives scikit-learn's numbers; files load safely."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from amends.insight import ml
from amends.insight.tests.conftest import CFPB, airline_rows, held_back, rows_of


def test_triage_shortcut_matches_scikit_learn(triage_model_path):
    model = ml.model_load(triage_model_path, kind=ml.TRIAGE)
    texts = [
        r["Consumer complaint narrative"] for r in rows_of(CFPB) if held_back(r["source_row_index"])
    ][:20]
    one_by_one = np.vstack([model.predict_proba([t]) for t in texts])
    batch = model.predict_proba(texts)
    prepared = [ml.text_prepare(t) for t in texts]
    reference = _neighbours_blended(model, prepared, model.pipeline.predict_proba(prepared))
    assert np.abs(one_by_one - reference).max() < 1e-9
    assert np.abs(batch - reference).max() < 1e-9
    assert model.best(texts[0])[0] == model.pipeline.classes_[reference[0].argmax()]
    assert model.predict(texts) == [model.pipeline.classes_[i] for i in reference.argmax(axis=1)]


def _neighbours_blended(model: ml.TrainedModel, prepared: list[str], proba: np.ndarray) -> Any:
    """The SVM's probabilities blended with the nearest training texts' vote, written out with
    scikit-learn's word view and dense NumPy (independently of the model's own code)."""
    neighbours = model.neighbours
    assert neighbours is not None
    words = dict(model.pipeline.named_steps["features"].transformer_list)["words"]
    similarity = words.transform(prepared).toarray() @ neighbours.matrix.toarray().T
    out = proba.copy()
    for i, row in enumerate(similarity):
        order = sorted(range(len(row)), key=lambda j: (-round(float(row[j]), 12), j))
        votes = np.zeros(proba.shape[1])
        for j in order[: ml.NEIGHBOURS_K]:
            votes[neighbours.labels[j]] += max(float(row[j]), 0.0)
        votes *= neighbours.class_weights
        if votes.sum() > 0:
            share = votes / votes.sum()
            out[i] = (1 - ml.NEIGHBOURS_WEIGHT) * proba[i] + ml.NEIGHBOURS_WEIGHT * share
    return out


def test_triage_neighbours_vote_for_the_nearest_training_texts(triage_model_path):
    model = ml.model_load(triage_model_path, kind=ml.TRIAGE)
    neighbours = model.neighbours
    assert neighbours is not None
    assert model.meta["neighbours"] == {
        "k": ml.NEIGHBOURS_K,
        "weight": ml.NEIGHBOURS_WEIGHT,
        "balance": ml.NEIGHBOURS_BALANCE,
    }
    labels = [str(c) for c in model.pipeline.classes_]
    rows = [r for r in rows_of(CFPB) if not held_back(r["source_row_index"])][:600]
    rows = [r for r in rows if r["Product"] in labels]  # a product with < 3 texts is left out
    assert neighbours.matrix.shape[0] == len(rows)
    # Each product's votes are divided by its share of the training texts to the power 0.5.
    share = np.array([sum(r["Product"] == c for r in rows) for c in labels]) / len(rows)
    assert np.abs(neighbours.class_weights - share**-ml.NEIGHBOURS_BALANCE).max() < 1e-12
    # Votes are shares of one; a training text is the one most similar to itself.
    words = dict(model.pipeline.named_steps["features"].transformer_list)["words"]
    for r in rows[:50]:
        votes = neighbours.votes(
            words.transform([ml.text_prepare(r["Consumer complaint narrative"])])
        )
        assert votes.sum() == pytest.approx(1.0)
    text = rows[0]["Consumer complaint narrative"]
    similarity = words.transform([ml.text_prepare(text)]) @ neighbours.matrix.T
    assert similarity.toarray().argmax() == 0
    # A text sharing no word with any training text gets the SVM's probabilities alone.
    unseen = "zzqx wvvk"
    prepared = ml.text_prepare(unseen)
    assert (
        np.abs(model.predict_proba([unseen]) - model.pipeline.predict_proba([prepared])).max()
        < 1e-9
    )


def test_emotion_shortcut_matches_scikit_learn(emotion_model_path):
    model = ml.model_load(emotion_model_path, kind=ml.EMOTION)
    texts = [r["text"] for r in airline_rows() if held_back(r["row_index"])][:30]
    one_by_one = np.vstack([model.predict_proba([t]) for t in texts])
    reference = model.pipeline.predict_proba([ml.text_prepare(t, ml.EMOTION) for t in texts])
    assert np.abs(one_by_one - reference).max() < 1e-9


def test_emotion_weights_are_fitted_on_log_count_ratio_features():
    """The emotion model is a logistic regression fitted on features scaled by their upset /
    not-upset log-count ratio, the ratios folded into its weights, averaged with one fitted on
    the plain features: it predicts from the plain features what the two average to."""
    from scipy.sparse import diags
    from sklearn.linear_model import LogisticRegression

    rows = [r for r in airline_rows() if not held_back(r["row_index"])][:600]
    texts = [ml.text_prepare(r["text"], ml.EMOTION) for r in rows]
    labels = ["upset" if r["airline_sentiment"] == "negative" else "not_upset" for r in rows]
    model, _, _ = ml.model_train(
        ml.EMOTION, [r["text"] for r in rows], labels, cross_validate=False
    )
    features = model.pipeline.named_steps["features"].transform(texts)
    upset = np.asarray(labels) == "upset"
    present = features > 0
    p = 1.0 + np.asarray(present[upset].sum(axis=0)).ravel()
    q = 1.0 + np.asarray(present[~upset].sum(axis=0)).ravel()
    ratios = np.log((p / p.sum()) / (q / q.sum()))
    scaled = LogisticRegression(
        C=ml.EMOTION_C, solver="liblinear", max_iter=1000, class_weight="balanced"
    ).fit(features @ diags(ratios), labels)
    plain = LogisticRegression(
        C=ml.EMOTION_PLAIN_C, solver="liblinear", max_iter=1000, class_weight="balanced"
    ).fit(features, labels)
    held = [
        ml.text_prepare(r["text"], ml.EMOTION) for r in airline_rows() if held_back(r["row_index"])
    ][:50]
    held_features = model.pipeline.named_steps["features"].transform(held)
    decision = (
        scaled.decision_function(held_features @ diags(ratios))
        + plain.decision_function(held_features)
    ) / 2
    expected = 1 / (1 + np.exp(-decision))
    # (liblinear shuffles with its own seed: two fits differ by about 1e-6)
    assert np.abs(model.pipeline.predict_proba(held)[:, 1] - expected).max() < 1e-4
    # Plainly upset and plainly pleased tweets land on their sides.
    classifier = model.pipeline.named_steps["classifier"]
    assert list(classifier.classes_) == ["not_upset", "upset"]
    assert model.upset_probability("cancelled flight, lost bags, worst airline ever") > 0.8
    assert model.upset_probability("thank you so much, great crew and lovely flight") < 0.2


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
    assert again.neighbours is not None
    assert (again.neighbours.matrix != model.neighbours.matrix).nnz == 0
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
    assert model.neighbours is None  # too few texts for a vote of neighbours
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


def test_triage_file_without_neighbours_predicts_with_the_svm_alone(tmp_path, triage_model_path):
    """A model file saved before the vote existed (no neighbours) loads and predicts as before."""
    model = ml.model_load(triage_model_path, kind=ml.TRIAGE)
    model.neighbours = None
    plain = ml.model_load(ml.model_save(model, tmp_path / "plain.skops"), kind=ml.TRIAGE)
    assert plain.neighbours is None
    texts = ["My mortgage servicer lost my escrow payment.", "A debt collector calls me daily."]
    reference = plain.pipeline.predict_proba([ml.text_prepare(t) for t in texts])
    assert np.abs(plain.predict_proba(texts) - reference).max() < 1e-9
    assert np.abs(plain.predict_proba(texts[:1]) - reference[:1]).max() < 1e-9

"""Trained text models: building, training, evaluating, saving and loading them safely.

Two kinds, both scikit-learn pipelines of TF-IDF word and character n-grams:

- *triage*: a linear SVM calibrated for probabilities, predicting a case's category, blended
  with a vote of the most similar training texts (their word TF-IDF rows are kept);
- *emotion*: logistic regression predicting whether a customer's text is upset (fitted on
  log-count-ratio features, the ratios folded into its weights: `_ratios_fit`).

Models are saved with skops (never a bare pickle): loading checks that every type in the file is
a scikit-learn, NumPy or SciPy type before anything is built, so a model file cannot run code.
A file holds the pipeline, its metadata (kind, version, labels, training figures) and, for
triage, the training texts' word rows (a SciPy sparse matrix) and labels for the vote.
Training is pure CPU work with no database writes, run from the CLI or a background task, never
inside a web request.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from amends.insight.scoring import text_clean

logger = logging.getLogger(__name__)

TRIAGE = "triage"
EMOTION = "emotion"
MIN_PER_LABEL = 3
HASH_BITS = 17
CV_FOLDS = 5
# Triage: each class's decision value is raised by PRIOR_SHIFT × −log(its share of the training
# texts) before calibration turns it into a probability, which lifts the small products (chosen
# by cross-validation of the calibrated model on the development data: 0.811 / 0.647 → 0.816 /
# 0.666 accuracy / macro-F1 at 0.03; 0.05 and more cost accuracy, 0.075 cost both).
PRIOR_SHIFT = 0.03
# Training sets at least this large drop words seen only once or in more than half the texts.
VOCABULARY_PRUNE_FROM = 200
# Triage's word n-grams leave out scikit-learn's English stop-word list ("the", "my", "to", …;
# bigrams are then formed across them): 5×5-fold cross-validation on the development data,
# 0.8141 ± 0.0021 / 0.6603 ± 0.0033 → 0.8164 ± 0.0011 / 0.6721 ± 0.0042 accuracy / macro-F1.
# The character n-grams still see every word.
TRIAGE_STOP_WORDS = "english"
# Triage blends the calibrated SVM's probabilities with a vote of the training texts nearest to
# the text in the word view (cosine of the word TF-IDF rows): the NEIGHBOURS_K nearest vote with
# their similarity, each product's votes divided by its share of the training texts to the power
# NEIGHBOURS_BALANCE (a plain vote favours the big products, and cost macro-F1), and the vote's
# shares weigh NEIGHBOURS_WEIGHT in the blend. 5×5-fold cross-validation on the development
# data: 0.8164 ± 0.0011 / 0.6721 ± 0.0042 → 0.8215 ± 0.0022 / 0.6766 ± 0.0039 accuracy /
# macro-F1 (paired +0.0051 ± 0.0026 / +0.0045 ± 0.0069; on other folds +0.0047 ± 0.0028 /
# +0.0081 ± 0.0086). Training sets of VOCABULARY_PRUNE_FROM texts or more keep their word rows
# for this (float32; 1.2 MB more in the file for 3,044 complaints).
NEIGHBOURS_K = 10
NEIGHBOURS_WEIGHT = 0.35
NEIGHBOURS_BALANCE = 0.5
# The two-label emotion model is fitted on features scaled by their log-count ratio (how much
# more often a feature occurs in upset texts than in the others, smoothed by NB_ALPHA: the
# "NB" features of Wang and Manning's NB-SVM), and the ratios are then folded into its weights,
# so the saved model is a plain logistic regression on the usual features. 5-fold
# cross-validation on the development tweets' training part, macro-F1 of the upset flag
# (seeds 0–1 to choose C, seeds 2–4 to confirm): 0.8885 → 0.8920, better on every seed. Its
# decision values are then averaged with those of the same regression on the plain features
# (C 10), one linear model again (NB-SVM's interpolation): 0.8920 → 0.8934 on seeds 2–4.
NB_ALPHA = 1.0
EMOTION_C = 3.0
EMOTION_PLAIN_C = 10.0

# Types a model file may contain. Anything else (a function, an arbitrary class) is refused.
TRUSTED_PREFIXES = ("sklearn.", "numpy.", "scipy.", "builtins.")

_NUMBERS = re.compile(r"[xX]{2,}|\{\$[\d.,]+\}|\d+")


class ModelError(Exception):
    """A model file is missing, unreadable, of the wrong kind or contains untrusted types."""


def text_prepare(text: str, kind: str = TRIAGE) -> str:
    """The form a text has before a model sees it: plain, bounded, without masked numbers.

    For the emotion model the built-in scorer's findings are added as marker words (the lexicon
    valence in steps, each rule that fired), so the model learns from the organisation's own
    labels how much to trust them, and the file stays a plain scikit-learn pipeline."""
    clean = text_clean(text)
    prepared = _NUMBERS.sub(" ", clean).lower()
    if kind != EMOTION:
        return prepared
    from amends.insight.scoring import text_analyse

    analysis = text_analyse(clean)
    markers = [f"zzvalence{round(analysis.compound * 4):+d}".replace("+", "p").replace("-", "m")]
    markers += sorted({f"zzsignal{p.signal}" for p in analysis.phrases})
    if analysis.intensity >= 0.1:
        markers.append("zzintense")
    return " ".join(markers) + " " + prepared


def _hashed(bits: int = HASH_BITS, **options: Any) -> Any:
    from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
    from sklearn.pipeline import Pipeline

    return Pipeline(
        [
            (
                "hash",
                HashingVectorizer(n_features=2**bits, alternate_sign=False, norm=None, **options),
            ),
            ("tfidf", TfidfTransformer(sublinear_tf=True)),
        ]
    )


def _features(kind: str = EMOTION, *, n: int = 0) -> Any:
    """Word 1-2-grams and character 2-5-grams, TF-IDF weighted.

    Character n-grams are hashed: a model file holds arrays only, so it saves and loads in
    about a second (skops stores a fitted vocabulary entry by entry, which takes minutes for
    the few hundred thousand n-grams of a real training set). For triage the word n-grams keep
    a vocabulary instead (seen in at least two texts, in at most half of them: no collisions,
    no one-off words; English stop words left out), saved as one array of terms beside the
    pipeline (`model_save`)."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    words: Any = _hashed(ngram_range=(1, 2))
    if kind == TRIAGE:
        # A small training set (a new organisation's first cases) keeps every word.
        pruned = n >= VOCABULARY_PRUNE_FROM
        words = TfidfVectorizer(
            ngram_range=(1, 2),
            min_df=2 if pruned else 1,
            max_df=0.5 if pruned else 1.0,
            stop_words=TRIAGE_STOP_WORDS,
            sublinear_tf=True,
            dtype=np.float64,
        )
    chars = _hashed(analyzer="char_wb", ngram_range=(2, 5))
    return FeatureUnion([("words", words), ("chars", chars)])


def pipeline_build(kind: str, *, n: int = 0) -> Any:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.svm import LinearSVC

    if kind == TRIAGE:
        svm = LinearSVC(C=0.5, class_weight="balanced")
        # ensemble=False: one SVM fitted on everything, calibrated on cross-validated scores
        # (one set of weights in the file instead of three).
        classifier: Any = CalibratedClassifierCV(svm, cv=3, ensemble=False)
    elif kind == EMOTION:
        classifier = LogisticRegression(
            C=EMOTION_C, solver="liblinear", max_iter=1000, class_weight="balanced"
        )
    else:
        raise ModelError(f"Unknown model kind {kind!r}.")
    return Pipeline([("features", _features(kind, n=n)), ("classifier", classifier)])


def _width(branch: Any) -> int:
    """How many columns a fitted feature branch gives."""
    if hasattr(branch, "vocabulary_"):
        return len(branch.vocabulary_)
    return int(branch.named_steps["hash"].n_features)


def _row(branch: Any, text: str, offset: int, out: dict[int, float]) -> None:
    """One text through HashingVectorizer then TfidfTransformer (or a fitted TfidfVectorizer),
    exactly as scikit-learn computes them, in plain Python: for one short message this is ten
    times faster than the library's sparse-matrix path, whose input checks dominate."""
    if hasattr(branch, "vocabulary_"):
        _row_vocabulary(branch, text, offset, out)
        return
    hasher = branch.named_steps["hash"]
    tfidf = branch.named_steps["tfidf"]
    if hasher.alternate_sign or hasher.binary or hasher.norm is not None:
        raise ValueError("not the hashing set-up this shortcut reproduces")
    # The hashing itself runs in scikit-learn's compiled FeatureHasher (a long complaint has
    # thousands of character n-grams); only the weighting is done here.
    hashed = hasher._get_hasher().transform([hasher.build_analyzer()(text)])
    hashed.sum_duplicates()
    values = hashed.data.astype("float64")
    if tfidf.sublinear_tf:
        values = np_log(values) + 1.0
    if tfidf.use_idf:
        values = values * tfidf.idf_[hashed.indices]
    norm = math.sqrt(float((values * values).sum())) or 1.0
    out.update(zip((hashed.indices + offset).tolist(), (values / norm).tolist(), strict=True))


def _row_vocabulary(vectorizer: Any, text: str, offset: int, out: dict[int, float]) -> None:
    if vectorizer.binary or vectorizer.norm != "l2":
        raise ValueError("not the vocabulary set-up this shortcut reproduces")
    vocabulary = vectorizer.vocabulary_
    counts: dict[int, int] = {}
    for term in vectorizer.build_analyzer()(text):
        index = vocabulary.get(term)
        if index is not None:
            counts[index] = counts.get(index, 0) + 1
    if not counts:
        return
    idf = vectorizer.idf_ if vectorizer.use_idf else None
    weights = {}
    for index, count in counts.items():
        value = math.log(count) + 1.0 if vectorizer.sublinear_tf else float(count)
        weights[index] = value * float(idf[index]) if idf is not None else value
    norm = math.sqrt(sum(v * v for v in weights.values())) or 1.0
    for index, value in weights.items():
        out[index + offset] = value / norm


def np_log(values: Any) -> Any:
    import numpy as np

    return np.log(values)


def _calibrated_proba(classifier: Any, row: dict[int, float]) -> Any:
    """CalibratedClassifierCV(LinearSVC, method="sigmoid", ensemble=False).predict_proba for
    one row, the same arithmetic without the per-class input checks (about 10 ms saved)."""
    import numpy as np

    (calibrated,) = classifier.calibrated_classifiers_
    if calibrated.method != "sigmoid":
        raise ValueError("only sigmoid calibration is reproduced")
    svm = calibrated.estimator
    indices = np.fromiter(row.keys(), dtype=np.int64, count=len(row))
    values = np.fromiter(row.values(), dtype=np.float64, count=len(row))
    decision = svm.coef_[:, indices] @ values + svm.intercept_
    classes = list(calibrated.classes)
    proba = np.zeros(len(classes))
    if len(classes) == 2:
        (calibrator,) = calibrated.calibrators
        proba[1] = 1.0 / (1.0 + math.exp(calibrator.a_ * float(decision[0]) + calibrator.b_))
        proba[0] = 1.0 - proba[1]
    else:
        for label, score, calibrator in zip(
            svm.classes_, decision, calibrated.calibrators, strict=True
        ):
            z = calibrator.a_ * float(score) + calibrator.b_
            proba[classes.index(label)] = 1.0 / (1.0 + math.exp(z)) if z < 700 else 0.0
        total = proba.sum()
        proba = proba / total if total > 0 else np.full(len(classes), 1.0 / len(classes))
    proba[(proba > 1.0) & (proba <= 1.0 + 1e-5)] = 1.0
    return proba


@dataclass
class Neighbours:
    """The training texts' word TF-IDF rows and labels, for a nearest-neighbour vote."""

    matrix: Any  # CSR, one row per training text, the word view's columns
    labels: Any  # per row, the index of its label in the classifier's classes
    class_weights: Any  # per class: 1 / (its share of the training texts) ** balance
    k: int = NEIGHBOURS_K
    weight: float = NEIGHBOURS_WEIGHT
    _by_word: Any = field(default=None, repr=False, compare=False)

    def votes(self, words: Any) -> Any:
        """Each row's vote shares per class (zeros for a row no training text resembles), for
        rows of the word view (CSR)."""
        import numpy as np

        words = words.tocsr()
        out = np.zeros((words.shape[0], len(self.class_weights)))
        for i in range(words.shape[0]):
            start, end = words.indptr[i], words.indptr[i + 1]
            out[i] = self.votes_one(words.indices[start:end], words.data[start:end])
        return out

    def votes_one(self, columns: Any, values: Any) -> Any:
        """The vote shares of one text given by its word columns and TF-IDF values."""
        import numpy as np

        if self._by_word is None:  # words × texts: a text's similarities touch only its words
            self._by_word = self.matrix.T.tocsr()
        by_word = self._by_word
        out = np.zeros(len(self.class_weights))
        columns = np.asarray(columns, dtype=np.int64)
        starts = by_word.indptr[columns]
        counts = by_word.indptr[columns + 1] - starts
        total = int(counts.sum())
        if total == 0:
            return out
        # Every (training text, value) entry of the text's words, gathered in one go.
        at = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(total)
        weights = by_word.data[at].astype(np.float64) * np.repeat(
            np.asarray(values, dtype=np.float64), counts
        )
        similarity = np.bincount(by_word.indices[at], weights=weights, minlength=by_word.shape[1])
        texts = np.flatnonzero(similarity > 0)
        near = similarity[texts]
        if len(near) > self.k:
            # The k most similar, rounded before ranking and ties to the earlier training text:
            # the same neighbours whichever way the text's row was computed (sums differ in the
            # last bits).
            ranked = np.round(near, 12)
            floor = np.partition(ranked, len(ranked) - self.k)[len(ranked) - self.k]
            top = np.flatnonzero(ranked >= floor)
            top = top[np.lexsort((texts[top], -ranked[top]))[: self.k]]
            texts, near = texts[top], near[top]
        np.add.at(out, self.labels[texts], near)
        out *= self.class_weights
        return out / out.sum()

    def blend(self, proba: Any, votes: Any) -> Any:
        """The classifier's probabilities blended with the votes (left as they are for a row
        without any similar training text)."""
        voted = votes.sum(axis=1) > 0
        out = proba.copy()
        out[voted] = (1.0 - self.weight) * proba[voted] + self.weight * votes[voted]
        return out

    def as_saved(self) -> dict[str, Any]:
        return {
            "matrix": self.matrix,
            "labels": self.labels,
            "class_weights": self.class_weights,
            "k": self.k,
            "weight": self.weight,
        }

    @classmethod
    def from_saved(cls, saved: dict[str, Any]) -> Neighbours:
        return cls(
            matrix=saved["matrix"],
            labels=saved["labels"],
            class_weights=saved["class_weights"],
            k=int(saved["k"]),
            weight=float(saved["weight"]),
        )


def _neighbours_build(pipeline: Any, prepared: Sequence[str], targets: Sequence[str]) -> Neighbours:
    """The nearest-neighbour vote of a fitted triage pipeline, from its training texts."""
    import numpy as np
    from scipy.sparse import csr_matrix

    _, words = pipeline.named_steps["features"].transformer_list[0]
    classes = [str(c) for c in pipeline.classes_]
    index = {label: i for i, label in enumerate(classes)}
    labels = np.array([index[t] for t in targets], dtype=np.int64)
    share = np.bincount(labels, minlength=len(classes)) / len(labels)
    return Neighbours(
        matrix=csr_matrix(words.transform(prepared), dtype=np.float32),
        labels=labels,
        class_weights=share**-NEIGHBOURS_BALANCE,
    )


@dataclass
class TrainedModel:
    kind: str
    pipeline: Any
    meta: dict[str, Any] = field(default_factory=dict)
    neighbours: Neighbours | None = None

    @property
    def version(self) -> str:
        return str(self.meta.get("version", "unknown"))

    @property
    def labels(self) -> list[str]:
        return [str(label) for label in self.pipeline.classes_]

    def _rows(self, texts: Sequence[str]) -> list[dict[int, float]]:
        union = self.pipeline.named_steps["features"]
        rows = []
        for text in texts:
            prepared = text_prepare(text, self.kind)
            row: dict[int, float] = {}
            offset = 0
            for _, branch in union.transformer_list:
                _row(branch, prepared, offset, row)
                offset += _width(branch)
            rows.append(row)
        return rows

    def _features(self, texts: Sequence[str]) -> Any:
        union = self.pipeline.named_steps["features"]
        try:
            from scipy.sparse import csr_matrix

            rows = self._rows(texts)
            width = sum(_width(b) for _, b in union.transformer_list)
            indptr = [0]
            indices: list[int] = []
            data: list[float] = []
            for row in rows:
                for index in sorted(row):
                    indices.append(index)
                    data.append(row[index])
                indptr.append(len(indices))
            return csr_matrix((data, indices, indptr), shape=(len(rows), width))
        except (ValueError, KeyError, AttributeError):  # a pipeline this shortcut does not know
            return union.transform([text_prepare(t, self.kind) for t in texts])

    def predict_proba(self, texts: Sequence[str]) -> Any:
        import numpy as np

        classifier = self.pipeline.named_steps["classifier"]
        binary = hasattr(classifier, "coef_") and len(classifier.classes_) == 2
        if self.kind == EMOTION and binary and len(texts) <= 8:
            # Binary logistic regression, one message at a time: a dot product.
            try:
                coef = classifier.coef_[0]
                positive = []
                for row in self._rows(texts):
                    decision = float(classifier.intercept_[0]) + sum(
                        value * float(coef[index]) for index, value in row.items()
                    )
                    positive.append(1.0 / (1.0 + math.exp(-decision)))
                p = np.asarray(positive)
                return np.column_stack([1.0 - p, p])
            except (ValueError, KeyError, AttributeError):
                pass
        if (
            self.kind == TRIAGE
            and len(texts) == 1
            and hasattr(classifier, "calibrated_classifiers_")
        ):
            try:
                (row,) = self._rows(texts)
                proba = np.vstack([_calibrated_proba(classifier, row)])
            except (ValueError, KeyError, AttributeError):
                pass
            else:
                if self.neighbours is None:
                    return proba
                width = self._words_width()
                words = sorted(i for i in row if i < width)
                votes = self.neighbours.votes_one(words, [row[i] for i in words])
                return self.neighbours.blend(proba, votes[np.newaxis, :])
        return self._proba_of(self._features(texts))

    def _words_width(self) -> int:
        """How many of the features' first columns are the word view's."""
        return _width(self.pipeline.named_steps["features"].transformer_list[0][1])

    def _proba_of(self, features: Any) -> Any:
        """Probabilities for rows of the pipeline's features (the neighbours' vote blended in)."""
        proba = self.pipeline.named_steps["classifier"].predict_proba(features)
        if self.neighbours is None:
            return proba
        words = features.tocsr()[:, : self._words_width()]
        return self.neighbours.blend(proba, self.neighbours.votes(words))

    def predict(self, texts: Sequence[str]) -> list[str]:
        if self.neighbours is None:
            classifier = self.pipeline.named_steps["classifier"]
            return [str(p) for p in classifier.predict(self._features(texts))]
        classes = self.pipeline.classes_
        return [str(classes[i]) for i in self._proba_of(self._features(texts)).argmax(axis=1)]

    def best(self, text: str) -> tuple[str, float]:
        """The most likely label of one text and its probability."""
        probabilities = self.predict_proba([text])[0]
        index = int(probabilities.argmax())
        return str(self.pipeline.classes_[index]), float(probabilities[index])

    def upset_probability(self, text: str) -> float:
        probabilities = self.predict_proba([text])[0]
        classes = [str(c) for c in self.pipeline.classes_]
        return float(probabilities[classes.index("upset")]) if "upset" in classes else 0.0


@dataclass
class Evaluation:
    n: int
    accuracy: float
    macro_f1: float
    per_label: dict[str, dict[str, float]]
    precision: float | None = None
    recall: float | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "n": self.n,
            "accuracy": round(self.accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
        }
        if self.precision is not None:
            out["precision"] = round(self.precision, 4)
        if self.recall is not None:
            out["recall"] = round(self.recall, 4)
        out["per_label"] = self.per_label
        return out


def evaluate(
    truth: Sequence[str], predicted: Sequence[str], *, positive: str | None = None
) -> Evaluation:
    from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

    labels = sorted(set(truth) | set(predicted))
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=labels, zero_division=0
    )
    per_label = {
        label: {
            "precision": round(float(p), 4),
            "recall": round(float(r), 4),
            "f1": round(float(f), 4),
            "n": int(s),
        }
        for label, p, r, f, s in zip(labels, precision, recall, f1, support, strict=True)
    }
    result = Evaluation(
        n=len(truth),
        accuracy=float(accuracy_score(truth, predicted)) if truth else 0.0,
        macro_f1=float(f1_score(truth, predicted, average="macro", zero_division=0))
        if truth
        else 0.0,
        per_label=per_label,
    )
    if positive is not None:
        result.precision = per_label.get(positive, {}).get("precision", 0.0)
        result.recall = per_label.get(positive, {}).get("recall", 0.0)
    return result


def _version(kind: str, texts: Sequence[str], labels: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for text, label in zip(texts, labels, strict=True):
        digest.update(label.encode())
        digest.update(b"\x1f")
        digest.update(text.encode("utf-8", "replace"))
        digest.update(b"\x1e")
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    return f"{kind}-{stamp}-{digest.hexdigest()[:8]}"


def model_train(
    kind: str, texts: Sequence[str], labels: Sequence[str], *, cross_validate: bool = True
) -> tuple[TrainedModel, Evaluation | None, list[str]]:
    """Train a model on labelled texts. Labels with fewer than MIN_PER_LABEL examples are left
    out (and named in the third value); cross-validation reports honest figures on the rest."""
    from collections import Counter

    from sklearn.model_selection import StratifiedKFold

    counts = Counter(labels)
    dropped = sorted(label for label, n in counts.items() if n < MIN_PER_LABEL)
    pairs = [
        (text_prepare(t, kind), label)
        for t, label in zip(texts, labels, strict=True)
        if label not in dropped and t.strip()
    ]
    kept = sorted({label for _, label in pairs})
    if len(kept) < 2:
        raise ModelError("Training needs at least two labels with three examples each.")
    prepared = [t for t, _ in pairs]
    targets = [label for _, label in pairs]
    shift = PRIOR_SHIFT if kind == TRIAGE else 0.0
    evaluation = None
    if cross_validate:
        folds = min(CV_FOLDS, min(Counter(targets).values()))
        if folds >= 2:
            cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
            # The model as it is saved (calibrated and shifted, or with its ratios), per fold.
            predicted = [""] * len(targets)
            for train, test in cv.split(prepared, targets):
                fold = _model_fit(
                    kind, [prepared[i] for i in train], [targets[i] for i in train], shift
                )
                features = fold.pipeline.named_steps["features"].transform(
                    [prepared[i] for i in test]
                )
                for i, j in zip(test, fold._proba_of(features).argmax(axis=1), strict=True):
                    predicted[i] = str(fold.pipeline.classes_[j])
            evaluation = evaluate(targets, [str(p) for p in predicted])
    model = _model_fit(kind, prepared, targets, shift)
    neighbours = model.neighbours
    meta: dict[str, Any] = {
        "kind": kind,
        "version": _version(kind, prepared, targets),
        "trained_at": datetime.now(UTC).isoformat(),
        "n": len(prepared),
        "labels": kept,
        "dropped_labels": dropped,
        "cross_validated": evaluation.as_dict() if evaluation else None,
        "prior_shift": shift,
        "neighbours": (
            {"k": neighbours.k, "weight": neighbours.weight, "balance": NEIGHBOURS_BALANCE}
            if neighbours is not None
            else None
        ),
    }
    model.meta = meta
    return model, evaluation, dropped


def _model_fit(
    kind: str, prepared: Sequence[str], targets: Sequence[str], shift: float
) -> TrainedModel:
    """The pipeline fitted on prepared texts (a two-label emotion model by `_ratios_fit`),
    decision values shifted by the classes' shares and, for a triage training set large
    enough, the nearest-neighbour vote."""
    pipeline = pipeline_build(kind, n=len(prepared))
    if kind == EMOTION and len(set(targets)) == 2:
        _ratios_fit(pipeline, prepared, targets)
    else:
        pipeline.fit(prepared, targets)
    if shift:
        classes = [str(c) for c in pipeline.classes_]
        _intercept_shift(pipeline, _prior_shift(classes, targets, shift))
    neighbours = None
    if kind == TRIAGE and len(prepared) >= VOCABULARY_PRUNE_FROM:
        neighbours = _neighbours_build(pipeline, prepared, targets)
    return TrainedModel(kind=kind, pipeline=pipeline, neighbours=neighbours)


def _ratios_fit(pipeline: Any, prepared: Sequence[str], targets: Sequence[str]) -> None:
    """Fit a two-label pipeline's logistic regression on its features scaled by each feature's
    log-count ratio between the labels, fold the ratios into the weights and average them with
    a regression's on the plain features: the pipeline predicts from the plain features, as any
    other."""
    import numpy as np
    from scipy.sparse import diags
    from sklearn.base import clone

    features = pipeline.named_steps["features"].fit_transform(prepared)
    labels = np.asarray(targets)
    second = labels == sorted(set(targets))[1]  # the label a binary model's weights point to
    present = features > 0
    p = NB_ALPHA + np.asarray(present[second].sum(axis=0), dtype=np.float64).ravel()
    q = NB_ALPHA + np.asarray(present[~second].sum(axis=0), dtype=np.float64).ravel()
    ratios = np.log((p / p.sum()) / (q / q.sum()))
    classifier = pipeline.named_steps["classifier"]
    plain = clone(classifier).set_params(C=EMOTION_PLAIN_C).fit(features, labels)
    classifier.fit(features @ diags(ratios), labels)
    classifier.coef_ = (classifier.coef_ * ratios + plain.coef_) / 2
    classifier.intercept_ = (classifier.intercept_ + plain.intercept_) / 2


def _prior_shift(classes: Sequence[str], targets: Sequence[str], shift: float) -> Any:
    """What each class's decision value is raised by: `shift` × −log(its share of the training
    texts), so a product seen rarely is not out-voted by a frequent one on a close call."""
    from collections import Counter

    import numpy as np

    counts = Counter(targets)
    share = np.array([counts[c] for c in classes], dtype=np.float64) / len(targets)
    return -shift * np.log(share)


def _shifted_labels(decisions: Any, classes: Sequence[str], raise_by: Any) -> list[str]:
    import numpy as np

    if decisions.ndim == 1:  # two classes: one decision value for the second
        return [classes[1] if d + raise_by[1] - raise_by[0] > 0 else classes[0] for d in decisions]
    return [classes[i] for i in np.argmax(decisions + raise_by, axis=1)]


def _intercept_shift(pipeline: Any, raise_by: Any) -> None:
    """Raise the fitted SVM's decision values per class (its intercepts), the one inside the
    calibration too: probabilities and labels then follow the shifted decisions."""
    classifier = pipeline.named_steps["classifier"]
    if hasattr(classifier, "calibrated_classifiers_"):
        svms = [c.estimator for c in classifier.calibrated_classifiers_]
    else:
        svms = [classifier]
    for svm in svms:
        if len(svm.intercept_) == 1:
            svm.intercept_ = svm.intercept_ + (raise_by[1] - raise_by[0])
        else:
            svm.intercept_ = svm.intercept_ + raise_by


def _vocabularies_take(pipeline: Any) -> dict[str, Any]:
    """Each fitted vocabulary of the pipeline's features as one array of terms (in column
    order), removed from the pipeline: skops saves an array in one piece but a dict entry by
    entry (half a minute each way for fifty thousand word n-grams)."""
    import numpy as np

    taken: dict[str, Any] = {}
    for name, branch in pipeline.named_steps["features"].transformer_list:
        vocabulary = getattr(branch, "vocabulary_", None)
        if isinstance(vocabulary, dict):
            terms = [""] * len(vocabulary)
            for term, index in vocabulary.items():
                terms[index] = term
            taken[name] = np.array(terms, dtype=str)
            del branch.vocabulary_
    return taken


def _vocabularies_put(pipeline: Any, vocabularies: dict[str, Any]) -> None:
    branches = dict(pipeline.named_steps["features"].transformer_list)
    for name, terms in vocabularies.items():
        branches[name].vocabulary_ = {str(term): i for i, term in enumerate(terms.tolist())}


def model_save(model: TrainedModel, path: Path | str) -> Path:
    import skops.io as sio

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    vocabularies = _vocabularies_take(model.pipeline)
    try:
        sio.dump(
            {
                "meta_json": json.dumps(model.meta),
                "pipeline": model.pipeline,
                "vocabularies": vocabularies,
                "neighbours": model.neighbours.as_saved() if model.neighbours else None,
            },
            tmp,
        )
    finally:
        _vocabularies_put(model.pipeline, vocabularies)
    tmp.replace(target)  # atomic: a reader never sees half a file
    return target


def model_load(path: Path | str, *, kind: str | None = None) -> TrainedModel:
    import skops.io as sio

    source = Path(path)
    if not source.is_file():
        raise ModelError(f"No model file at {source}.")
    try:
        untrusted = sio.get_untrusted_types(file=source)
        refused = [t for t in untrusted if not t.startswith(TRUSTED_PREFIXES)]
        if refused:
            raise ModelError(f"{source} contains types that are not allowed: {refused[:5]}")
        loaded = sio.load(source, trusted=untrusted)
        if not isinstance(loaded, dict) or "pipeline" not in loaded:
            raise ModelError(f"{source} is not an Amends model file.")
        _vocabularies_put(loaded["pipeline"], loaded.get("vocabularies") or {})
    except ModelError:
        raise
    except Exception as exc:  # a corrupt or foreign file
        raise ModelError(f"{source} is not a model file Amends can read: {exc}") from exc
    meta = json.loads(loaded.get("meta_json") or "{}")
    saved = loaded.get("neighbours")
    model = TrainedModel(
        kind=str(meta.get("kind", "")),
        pipeline=loaded["pipeline"],
        meta=meta,
        neighbours=Neighbours.from_saved(saved) if saved else None,
    )
    if kind is not None and model.kind != kind:
        raise ModelError(f"{source} holds a {model.kind or 'unknown'} model, not a {kind} one.")
    return model


# One loaded model per configured path, reloaded when the file changes (a retrain replaces
# the file atomically; the web app picks it up on the next request without a restart).
_cache: dict[str, tuple[float, TrainedModel | None]] = {}
_lock = threading.Lock()


def model_cached(path: str, *, kind: str) -> TrainedModel | None:
    """The model at `path`, loaded once per file version; None if there is no usable file."""
    try:
        mtime = Path(path).stat().st_mtime
    except OSError:
        return None
    hit = _cache.get(path)
    if hit is not None and hit[0] == mtime:
        return hit[1]
    with _lock:
        hit = _cache.get(path)
        if hit is not None and hit[0] == mtime:
            return hit[1]
        model: TrainedModel | None
        try:
            model = model_load(path, kind=kind)
        except ModelError:
            # Logged once per file version; scoring falls back to the built-in rules.
            logger.exception("cannot load the %s model at %s", kind, path)
            model = None
        _cache[path] = (mtime, model)
        return model


def model_cache_clear() -> None:
    with _lock:
        _cache.clear()

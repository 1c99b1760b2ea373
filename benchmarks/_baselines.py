"""Honest baselines: the plain systems a competent user would build in an afternoon.

Each is tuned on the training part only, never on test data, and turns scores into
labels the same way our configs do: the best-scoring label for a single-label
dimension, otherwise one threshold per label maximising that label's F1 on
out-of-fold scores of the training part (``framing.training.thresholds``).

* :func:`fit_tfidf`: TF-IDF (word 1-2-grams, or word 1-2-grams plus character 2-5-grams
  within word boundaries; sublinear term frequency) into logistic regression
  (multinomial for a single-label dimension, one-vs-rest otherwise), with ``C`` and
  ``class_weight`` chosen from :data:`GRID` by 3-fold cross-validation on the training
  part, grouped by document and stratified over labels, on the corpus's metric.
* :func:`fit_fasttext`: fastText supervised (word bigrams), its learning rate, epochs and
  character n-grams chosen from :data:`FASTTEXT_GRID` on the corpus's metric on a
  document-grouped 80/20 split of the training part; thresholds (multi-label) tuned on
  that held-out part.
"""

from __future__ import annotations

import re
import tempfile
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path
from typing import Any

import numpy as np

#: The settings the TF-IDF baselines choose from (on the training part only).
GRID = {"C": (0.1, 1.0, 10.0, 100.0), "class_weight": (None, "balanced")}
INNER_FOLDS = 3
#: The fastText settings :func:`fit_fasttext` chooses from: learning rate, epochs, and
#: character n-gram lengths (0, 0: none), around the values of fastText's tutorial.
FASTTEXT_GRID: dict[str, tuple[Any, ...]] = {
    "lr": (0.1, 0.5, 1.0),
    "epoch": (10, 25, 50),
    "subwords": ((0, 0), (3, 6)),
}
SEED = 13

Predict = Callable[[list[str]], list[list[str]]]


@dataclass
class Baseline:
    """A fitted baseline: ``predict(texts)`` gives label lists; ``chosen`` what tuning picked."""

    predict: Predict
    chosen: dict[str, Any] = field(default_factory=dict)


def _indicator(labels: Sequence[Sequence[str]], classes: Sequence[str]) -> np.ndarray:
    column = {c: j for j, c in enumerate(classes)}
    Y = np.zeros((len(labels), len(classes)), dtype=bool)
    for i, item in enumerate(labels):
        for label in item:
            Y[i, column[label]] = True
    return Y


def _decide(scores: np.ndarray, single: bool, thresholds: np.ndarray | None) -> np.ndarray:
    if single:
        pred = np.zeros(scores.shape, dtype=bool)
        if len(scores):
            pred[np.arange(len(scores)), scores.argmax(axis=1)] = True
        return pred
    assert thresholds is not None
    return scores >= thresholds


def _thresholds(Y: np.ndarray, scores: np.ndarray, classes: Sequence[str]) -> np.ndarray:
    from framing.training.thresholds import tune_thresholds

    tuned = tune_thresholds(Y, scores, classes)
    return np.array([tuned.values[c] for c in classes])


def _metric(Y: np.ndarray, P: np.ndarray, classes: Sequence[str], metric: str) -> float:
    from framing.training.evaluate import score_dimension

    return float(getattr(score_dimension(Y, P, classes), metric))


def _pipeline(char: bool, C: float, class_weight: str | None, single: bool) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import FeatureUnion, make_pipeline

    word = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    features: Any = word
    if char:
        chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)
        features = FeatureUnion([("word", word), ("char", chars)])
    classifier: Any = LogisticRegression(C=C, class_weight=class_weight, max_iter=2000)
    if not single:
        classifier = OneVsRestClassifier(classifier)
    return make_pipeline(features, classifier)


def _scores(model: Any, texts: list[str], n_classes: int, single: bool) -> np.ndarray:
    raw = model.predict_proba(texts)
    if not single:
        return np.asarray(raw)
    # a class missing from an inner training fold has no column: put the others in place
    out = np.zeros((len(texts), n_classes))
    out[:, model.classes_] = raw
    return out


def _fit(texts: list[str], Y: np.ndarray, single: bool, char: bool, C: float, cw: Any) -> Any:
    model = _pipeline(char, C, cw, single)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # labels absent from a fold; convergence notes
        model.fit(texts, Y.argmax(axis=1) if single else Y)
    return model


def fit_tfidf(
    texts: list[str],
    labels: list[list[str]],
    groups: Sequence[str],
    *,
    char: bool,
    metric: str = "macro_f1",
) -> Baseline:
    """The tuned TF-IDF + logistic regression baseline (see the module docstring)."""
    from framing.training.thresholds import grouped_folds, stratification_key

    classes = sorted({label for item in labels for label in item})
    Y = _indicator(labels, classes)
    single = all(len(item) == 1 for item in labels)
    folds = grouped_folds(stratification_key(Y), list(groups), INNER_FOLDS, SEED)
    best: tuple[float, float, Any, np.ndarray] | None = None
    for C, cw in product(GRID["C"], GRID["class_weight"]):
        oof = np.zeros(Y.shape)
        for train, test in folds:
            model = _fit([texts[i] for i in train], Y[train], single, char, C, cw)
            oof[test] = _scores(model, [texts[i] for i in test], len(classes), single)
        cut = None if single else _thresholds(Y, oof, classes)
        value = _metric(Y, _decide(oof, single, cut), classes, metric)
        if best is None or value > best[0]:
            best = (value, C, cw, oof)
    assert best is not None
    value, C, cw, oof = best
    model = _fit(texts, Y, single, char, C, cw)
    cut = None if single else _thresholds(Y, oof, classes)

    def predict(batch: list[str]) -> list[list[str]]:
        P = _decide(_scores(model, batch, len(classes), single), single, cut)
        return [[classes[j] for j in np.flatnonzero(row)] for row in P]

    return Baseline(predict, {"C": C, "class_weight": cw, f"inner-CV {metric}": round(value, 3)})


_TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)


def fasttext_line(text: str) -> str:
    """Lowercased, punctuation split off: fastText splits on whitespace only."""
    return " ".join(_TOKEN.findall(text.lower()))


def fit_fasttext(
    texts: list[str],
    labels: list[list[str]],
    groups: Sequence[str],
    work: Path,
    *,
    metric: str = "macro_f1",
) -> Baseline:
    """fastText with its settings chosen from :data:`FASTTEXT_GRID` on the corpus's metric.

    Each setting is trained on a document-grouped 80 % of the training part and scored on the
    other 20 % (thresholds, multi-label: tuned on that part), as the TF-IDF baselines are
    scored on their inner folds.  fastText's own autotune is not used: its F1 counts the
    ``__label__NONE`` that a multi-label corpus needs for sentences without labels, which
    are most sentences, and on corpus release 4 it chose a setting (84 epochs at learning
    rate 0.035, 93 dimensions) whose frames macro-F1 on test was 0.18, where the plain
    setting of fastText's tutorial (25 epochs, learning rate 0.5) gives 0.60.
    """
    import fasttext
    from sklearn.model_selection import GroupShuffleSplit

    classes = sorted({label for item in labels for label in item})
    code = {label: f"__label__{i}" for i, label in enumerate(classes)}
    none = "__label__NONE"
    single = all(len(item) == 1 for item in labels)
    splitter = GroupShuffleSplit(n_splits=1, test_size=0.2, random_state=SEED)
    train, valid = next(splitter.split(np.zeros(len(texts)), groups=list(groups)))
    valid_texts = [texts[i] for i in valid]
    Y_valid = _indicator([labels[i] for i in valid], classes)

    def scores(model: Any, batch: list[str]) -> np.ndarray:
        out = np.zeros((len(batch), len(classes)))
        for i, text in enumerate(batch):
            # model.predict breaks on numpy 2; the low-level predict returns (prob, label).
            for prob, label in model.f.predict(fasttext_line(text) + "\n", -1, 0.0, "strict"):
                if label != none:
                    out[i, int(label[len("__label__") :])] = prob
        return out

    best: tuple[float, dict[str, Any], Any, np.ndarray | None] | None = None
    with tempfile.TemporaryDirectory(dir=work) as tmp:
        train_file = Path(tmp) / "train.txt"
        with train_file.open("w", encoding="utf-8") as out:
            for i in train:
                tags = " ".join(code[label] for label in labels[i]) or none
                out.write(f"{tags} {fasttext_line(texts[i])}\n")
        for lr, epoch, (minn, maxn) in product(*FASTTEXT_GRID.values()):
            model = fasttext.train_supervised(
                input=str(train_file),
                lr=lr,
                epoch=epoch,
                minn=minn,
                maxn=maxn,
                loss="softmax" if single else "ova",
                # bucket: fastText's default; a bucket set alone is zeroed by the Python
                # binding while wordNgrams is 1.  Word bigrams, as fastText's docs advise.
                bucket=2_000_000,
                wordNgrams=2,
                thread=1,
                seed=SEED,
                verbose=0,
            )
            S = scores(model, valid_texts)
            cut = None if single else _thresholds(Y_valid, S, classes)
            value = _metric(Y_valid, _decide(S, single, cut), classes, metric)
            if best is None or value > best[0]:
                setting = {"lr": lr, "epoch": epoch, "minn": minn, "maxn": maxn}
                best = (value, setting, model, cut)
    assert best is not None
    value, setting, model, cut = best

    def predict(batch: list[str]) -> list[list[str]]:
        P = _decide(scores(model, batch), single, cut)
        return [[classes[j] for j in np.flatnonzero(row)] for row in P]

    chosen = {**setting, "wordNgrams": 2, f"held-out {metric}": round(value, 3)}
    return Baseline(predict, chosen)

"""Pipelines: plain functions that build one unfitted scikit-learn estimator per dimension.

Every builder takes keyword-only arguments: ``multi_label``, ``n_labels`` and ``seed``
are supplied by the trainer, the rest come from ``[pipeline.params]`` of the config.
The fitted estimator's ``predict_proba(list_of_str)`` returns an ``(n, n_labels)``
array of scores in ``[0, 1]``: one-vs-rest probabilities for a multi-label dimension,
class probabilities (columns in ``estimator.classes_`` order) for a single-label one.

``tfidf-logreg.v1`` keeps exactly the structure that :mod:`framing.runtime.compiled` turns
into plain arrays (steps ``features`` -> ``word``/``char`` TF-IDF, ``clf`` ->
one-vs-rest logistic regression), so models built with it tag without scikit-learn.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.multioutput import ClassifierChain
from sklearn.pipeline import FeatureUnion, Pipeline

__all__ = ["PIPELINES", "build_pipeline", "build_tfidf_logreg"]


def _ngrams(value: Sequence[int], name: str) -> tuple[int, int]:
    from framing.errors import ConfigError

    if (
        not isinstance(value, list | tuple)
        or len(value) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        or not 1 <= value[0] <= value[1]
    ):
        raise ConfigError(f"pipeline.params.{name} must be [low, high] with 1 <= low <= high")
    return int(value[0]), int(value[1])


def tfidf_features(
    *,
    word_ngrams: Sequence[int] = (1, 2),
    char_ngrams: Sequence[int] = (2, 5),
    min_df: int | float = 1,
    max_df: float = 1.0,
    max_features: int | None = None,
) -> FeatureUnion:
    """Word 1-2-grams and character 2-5-grams (within word boundaries), sublinear TF-IDF."""
    word = TfidfVectorizer(
        lowercase=True,
        analyzer="word",
        ngram_range=_ngrams(word_ngrams, "word_ngrams"),
        sublinear_tf=True,
        min_df=min_df,
        max_df=max_df,
        max_features=max_features,
    )
    char = TfidfVectorizer(
        lowercase=True,
        analyzer="char_wb",
        ngram_range=_ngrams(char_ngrams, "char_ngrams"),
        sublinear_tf=True,
        min_df=min_df,
        max_df=max_df,
        max_features=max_features,
    )
    return FeatureUnion([("word", word), ("char", char)])


def build_tfidf_logreg(
    *,
    multi_label: bool = True,
    n_labels: int = 2,
    seed: int = 13,
    C: float = 10.0,
    min_df: int | float = 1,
    max_df: float = 1.0,
    max_features: int | None = None,
    word_ngrams: Sequence[int] = (1, 2),
    char_ngrams: Sequence[int] = (2, 5),
    max_iter: int = 1000,
    class_weight: str | None = "balanced",
) -> Pipeline:
    """Word and character TF-IDF into (one-vs-rest) logistic regression.

    Parameters
    ----------
    multi_label
        One-vs-rest binary models, one per label; otherwise one multinomial model.
    n_labels
        Number of labels of the dimension (a one-label dimension cannot use
        one-vs-rest, which would return two columns, so it uses a one-link chain).
    seed
        Random state of the solver.
    C
        Inverse regularisation strength; larger fits the training data more closely.
    min_df, max_df, max_features
        Vocabulary pruning of both vectorizers (see ``TfidfVectorizer``).
    word_ngrams, char_ngrams
        ``[low, high]`` n-gram ranges of the word and the character vectorizer.
    max_iter
        Solver iterations.
    class_weight
        ``"balanced"`` weighs the rare positives of each label up; ``"none"`` does not.

    Examples
    --------
    >>> pipe = build_tfidf_logreg(C=2.0)
    >>> [name for name, _ in pipe.steps]
    ['features', 'clf']
    """
    from framing.errors import ConfigError

    if isinstance(C, bool) or not isinstance(C, int | float) or not C > 0:
        raise ConfigError(f"pipeline.params.C must be a number > 0, got {C!r}")
    if class_weight == "none":
        class_weight = None
    if class_weight not in (None, "balanced"):
        raise ConfigError(
            f"pipeline.params.class_weight must be 'balanced' or 'none', got {class_weight!r}"
        )
    features = tfidf_features(
        word_ngrams=word_ngrams,
        char_ngrams=char_ngrams,
        min_df=min_df,
        max_df=max_df,
        max_features=max_features,
    )
    clf: Any
    if multi_label:
        binary = LogisticRegression(
            C=float(C),
            class_weight=class_weight,
            solver="liblinear",
            max_iter=max_iter,
            random_state=seed,
        )
        clf = OneVsRestClassifier(binary) if n_labels > 1 else ClassifierChain(binary)
    else:
        clf = LogisticRegression(
            C=float(C),
            class_weight=class_weight,
            solver="lbfgs",
            max_iter=max_iter,
            random_state=seed,
        )
    return Pipeline([("features", features), ("clf", clf)])


#: Versioned pipeline names; a name's behaviour never changes once released.
PIPELINES: dict[str, Callable[..., Any]] = {
    "tfidf-logreg.v1": build_tfidf_logreg,
}


def build_pipeline(
    name: str, params: dict[str, Any], *, multi_label: bool, n_labels: int, seed: int
) -> Any:
    """Build the unfitted estimator of pipeline ``name`` for one dimension."""
    return PIPELINES[name](multi_label=multi_label, n_labels=n_labels, seed=seed, **params)

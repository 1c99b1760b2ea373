"""The compile step: fitted scikit-learn pipelines -> a :class:`CompiledModel`.

This is the only part of the compiled scorer that imports scikit-learn; it runs
when a model is saved (:func:`framing.runtime.model.save_model`), never when one
is loaded.  Only the exact scikit-learn classes whose arithmetic
:mod:`framing.runtime.compiled` reproduces are accepted (``type(x) is C``, not
``isinstance``): a subclass may change that arithmetic, and its model must then
keep scoring with scikit-learn.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from framing.errors import ModelError
from framing.runtime.analyzers import ACCENT_STRIPPERS, ANALYZERS
from framing.runtime.compiled import CompiledModel, HeadSpec, VectorizerSpec

__all__ = ["CompileError", "compile_pipelines", "linear_head", "vectorizers_of"]

#: What OneVsRestClassifier fits for a label seen in every or in no training example.
_CONSTANT_PREDICTOR = "sklearn.multiclass._ConstantPredictor"


class CompileError(ModelError):
    """A pipeline is not of a shape :mod:`framing.runtime.compiled` can turn into arrays."""


def _is_constant_predictor(est: Any) -> bool:
    """Whether ``est`` is scikit-learn's constant predictor (named, not imported: it is private)."""
    cls = type(est)
    return f"{cls.__module__}.{cls.__qualname__}" == _CONSTANT_PREDICTOR


def _vectorizer_spec(vec: Any, where: str) -> VectorizerSpec:
    from sklearn.feature_extraction.text import TfidfVectorizer

    if type(vec) is not TfidfVectorizer:
        raise CompileError(f"{where}: {type(vec).__name__} is not a TfidfVectorizer")
    if vec.input != "content":
        raise CompileError(f"{where}: input={vec.input!r} (only 'content' is supported)")
    if vec.preprocessor is not None or vec.tokenizer is not None or callable(vec.analyzer):
        raise CompileError(f"{where}: custom preprocessor/tokenizer/analyzer functions")
    if vec.analyzer not in ANALYZERS:
        raise CompileError(f"{where}: analyzer={vec.analyzer!r}")
    if vec.strip_accents not in ACCENT_STRIPPERS:
        raise CompileError(f"{where}: strip_accents={vec.strip_accents!r}")
    if np.dtype(vec.dtype) != np.float64:
        raise CompileError(f"{where}: dtype={vec.dtype!r} (only float64 is reproduced exactly)")
    if vec.norm not in ("l1", "l2", None):
        raise CompileError(f"{where}: norm={vec.norm!r}")
    if vec.analyzer == "word":
        pattern = re.compile(vec.token_pattern)
        if pattern.groups > 1:
            raise CompileError(f"{where}: token_pattern has more than one group")
    vocab = vec.vocabulary_
    terms = [""] * len(vocab)
    for term, index in vocab.items():
        terms[index] = term
    stop = vec.get_stop_words() if vec.analyzer == "word" else None
    idf = np.asarray(vec.idf_, dtype=np.float64) if vec.use_idf else None
    return VectorizerSpec(
        analyzer=vec.analyzer,
        ngram_range=(int(vec.ngram_range[0]), int(vec.ngram_range[1])),
        lowercase=bool(vec.lowercase),
        strip_accents=vec.strip_accents,
        token_pattern=vec.token_pattern if vec.analyzer == "word" else None,
        stop_words=sorted(stop) if stop is not None else None,
        binary=bool(vec.binary),
        sublinear_tf=bool(vec.sublinear_tf),
        norm=vec.norm,
        vocabulary=terms,
        idf=idf,
    )


def vectorizers_of(step: Any, where: str) -> list[tuple[Any, float]]:
    """(vectorizer, weight) pairs of a vectorizer or a FeatureUnion of vectorizers."""
    from sklearn.pipeline import FeatureUnion

    if isinstance(step, FeatureUnion):
        weights = step.transformer_weights or {}
        out = []
        for name, trans in step.transformer_list:
            if trans is None or (isinstance(trans, str) and trans == "drop"):
                continue
            if isinstance(trans, str):
                raise CompileError(f"{where}: FeatureUnion member '{name}' is {trans!r}")
            out.append((trans, float(weights.get(name, 1.0))))
        if not out:
            raise CompileError(f"{where}: FeatureUnion has no transformer")
        return out
    return [(step, 1.0)]


def _linear(est: Any, where: str) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.linear_model import LogisticRegression

    if type(est) is not LogisticRegression:
        raise CompileError(f"{where}: {type(est).__name__} is not a LogisticRegression")
    return np.asarray(est.coef_, dtype=np.float64), np.asarray(est.intercept_, dtype=np.float64)


def linear_head(
    clf: Any, n_features: int, where: str
) -> tuple[str, np.ndarray, np.ndarray, list[float | None]]:
    """Kind, coef (n_decisions, n_features), intercept and constants of a classifier."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    if isinstance(clf, OneVsRestClassifier):
        coefs: list[np.ndarray] = []
        intercepts: list[float] = []
        constants: list[float | None] = []
        for i, est in enumerate(clf.estimators_):
            if _is_constant_predictor(est):
                coefs.append(np.zeros(n_features))
                intercepts.append(0.0)
                constants.append(float(np.asarray(est.y_, dtype=np.float64).ravel()[0]))
                continue
            coef, intercept = _linear(est, f"{where}: estimator {i}")
            if coef.shape[0] != 1:
                raise CompileError(f"{where}: estimator {i} is not a binary classifier")
            coefs.append(coef[0])
            intercepts.append(float(intercept[0]))
            constants.append(None)
        kind = "ovr" if clf.multilabel_ else "ovr_normalized"
        return kind, np.vstack(coefs), np.asarray(intercepts), constants
    if isinstance(clf, LogisticRegression):
        coef, intercept = _linear(clf, where)
        kind = "binary" if len(clf.classes_) <= 2 else "softmax"
        return kind, coef, intercept, [None] * coef.shape[0]
    raise CompileError(
        f"{where}: classifier {type(clf).__name__} is not a LogisticRegression "
        "or a OneVsRestClassifier of them"
    )


def compile_pipelines(
    pipelines: Mapping[str, Any], labels: Mapping[str, Sequence[str]]
) -> CompiledModel:
    """Turn fitted scikit-learn pipelines into a :class:`CompiledModel`.

    Parameters
    ----------
    pipelines
        Per dimension, a fitted ``Pipeline`` of a ``TfidfVectorizer`` or a
        ``FeatureUnion`` of them, then a ``LogisticRegression`` or a
        ``OneVsRestClassifier`` of logistic regressions.
    labels
        Per dimension, the label ids in the order of ``predict_proba``'s columns.

    Returns
    -------
    CompiledModel

    Raises
    ------
    CompileError
        When a pipeline has another shape (the model then loads with skops).
    """
    from sklearn.pipeline import Pipeline

    vectorizers: list[VectorizerSpec] = []
    index: dict[tuple[Any, ...], int] = {}
    heads: list[HeadSpec] = []
    for dim, pipe in pipelines.items():
        where = f"pipeline '{dim}'"
        if not isinstance(pipe, Pipeline) or len(pipe.steps) != 2:
            raise CompileError(f"{where}: expected a Pipeline of features then a classifier")
        features = vectorizers_of(pipe.steps[0][1], where)
        parts_v: list[tuple[int, float, int]] = []
        for vec, weight in features:
            spec = _vectorizer_spec(vec, where)
            k = spec.key()
            if k not in index:
                index[k] = len(vectorizers)
                vectorizers.append(spec)
            parts_v.append((index[k], weight, len(spec.vocabulary)))
        n_features = sum(n for _, _, n in parts_v)
        kind, coef, intercept, constants = linear_head(pipe.steps[1][1], n_features, where)
        if coef.shape[1] != n_features:
            raise CompileError(
                f"{where}: classifier expects {coef.shape[1]} features, got {n_features}"
            )
        n_outputs = 2 if coef.shape[0] == 1 and kind != "softmax" else coef.shape[0]
        if dim in labels and n_outputs != len(labels[dim]):
            raise CompileError(
                f"{where}: predict_proba gives {n_outputs} columns but the model has "
                f"{len(labels[dim])} labels"
            )
        parts = []
        offset = 0
        for v, weight, n in parts_v:
            # A FeatureUnion weight scales the vectorizer's output; fold it into the coefs.
            block = (
                coef[:, offset : offset + n].T * weight
                if weight != 1.0
                else coef[:, offset : offset + n].T
            )
            parts.append((v, np.ascontiguousarray(block)))
            offset += n
        heads.append(HeadSpec(dim, kind, parts, intercept, constants, n_outputs))
    return CompiledModel(vectorizers, heads)

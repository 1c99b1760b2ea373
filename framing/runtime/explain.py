"""Why a sentence got a label: the n-grams that contributed most to its score.

For the linear models (TF-IDF features into logistic regression) the score of a
label before the sigmoid, its *decision value*, is a sum::

    decision = intercept + sum over the sentence's n-grams f of  x_f * w_f

where ``x_f`` is the n-gram's TF-IDF value in the sentence (after the l2 norm of its
vectorizer) and ``w_f`` the label's coefficient.  Each term ``x_f * w_f`` is that
n-gram's *contribution*; nothing is approximated.  An explanation lists the largest
positive contributions (the n-grams that pushed towards the label) and, so that
the numbers add up, the sum of all the others as ``rest``::

    decision == intercept + sum(c.contribution for c in ngrams) + rest

For a model with an article-context stage (:mod:`framing.runtime.context`) the label's
score is the stage's: ``context`` is what the stage added to the log-odds, so that
``logit(score) == decision + context``.

Every scorer kind implements ``explain(texts, requests, top)`` (see
:class:`Explainer`); this module holds the result types and the arithmetic they
share, so the compiled arrays and the scikit-learn pipelines explain alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from framing.errors import ModelError

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "Contribution",
    "LabelExplanation",
    "SentenceExplanation",
    "ExplainRequest",
    "Explainer",
    "NotExplainableError",
    "DEFAULT_TOP",
    "linear_explanations",
    "explain_hits",
    "explain_sentence",
]

#: N-grams listed per explained label unless asked otherwise.
DEFAULT_TOP = 5


class NotExplainableError(ModelError):
    """The model's scorer cannot say which features made a score (it is not linear)."""

    #: Asking a model for what it cannot give is a usage error.
    exit_code = 2


@dataclass(frozen=True, slots=True)
class Contribution:
    """One n-gram's share of a label's decision value: TF-IDF value times coefficient.

    ``analyzer`` is the vectorizer's kind: ``word`` (word n-grams joined by a space),
    ``char_wb`` or ``char`` (character n-grams, spaces included).
    """

    ngram: str
    analyzer: str
    contribution: float

    def to_dict(self) -> dict[str, Any]:
        return {"ngram": self.ngram, "analyzer": self.analyzer, "contribution": self.contribution}


@dataclass(frozen=True, slots=True)
class LabelExplanation:
    """Why one label got its score on one sentence.

    ``decision`` is the score before the sigmoid (the log-odds of a one-vs-rest or
    binary model; the class's logit for a multinomial one);
    ``decision == intercept + sum of ngrams' contributions + rest``.  ``context`` is
    None unless the model's context stage revises the label's dimension; then it is what
    the article's context added to the log-odds: ``logit(score) == decision + context``.
    """

    dimension: str
    label: str
    score: float
    decision: float
    intercept: float
    ngrams: tuple[Contribution, ...]
    rest: float
    context: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {
            "decision": self.decision,
            "intercept": self.intercept,
            "ngrams": [c.to_dict() for c in self.ngrams],
            "rest": self.rest,
        }
        if self.context is not None:
            out["context"] = self.context
        return out


@dataclass(frozen=True, slots=True)
class SentenceExplanation:
    """The explanations of the labels of one sentence, per dimension, best score first."""

    text: str
    labels: dict[str, tuple[LabelExplanation, ...]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "labels": {
                dim: [{"label": e.label, "score": e.score, **e.to_dict()} for e in found]
                for dim, found in self.labels.items()
            },
        }


@dataclass(frozen=True, slots=True)
class ExplainRequest:
    """Explain label ``label``, column ``column`` of ``dimension``, on text number ``row``."""

    row: int
    dimension: str
    column: int
    label: str


class Explainer(Protocol):
    """What a scorer kind implements to explain its scores."""

    def explain(
        self, texts: Sequence[str], requests: Sequence[ExplainRequest], top: int
    ) -> list[LabelExplanation | None]:
        """One explanation per request, in order (``score`` left at 0.0 for the caller
        to fill in); None for a label the model predicts without looking at the text
        (one the training data always or never had)."""
        ...


@dataclass(slots=True)
class LinearPart:
    """One vectorizer's side of a linear head, for a batch of texts.

    The texts' TF-IDF rows (normalised as the model does) in CSR form: row ``i``'s
    non-zero features are ``indices[indptr[i]:indptr[i + 1]]`` (ascending) with values
    ``data[...]``; ``coef`` is ``(n_features, n_decisions)``.
    """

    analyzer: str
    vocabulary: Sequence[str]
    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    coef: np.ndarray


def linear_explanations(
    requests: Sequence[ExplainRequest],
    kind: str,
    intercept: np.ndarray,
    constants: Sequence[float | None],
    parts: Sequence[LinearPart],
    top: int,
) -> list[LabelExplanation | None]:
    """Explanations of requests on one head, given its texts' features and its arrays.

    All requests are computed together: one gather of their features' values and
    coefficients, one sort for the largest contributions of each.
    """
    import numpy as np

    n = len(requests)
    if not n:
        return []
    column = np.fromiter((r.column for r in requests), np.int64, n)
    rows = np.fromiter((r.row for r in requests), np.int64, n)
    if kind == "binary":
        col, sign = np.zeros(n, dtype=np.int64), np.where(column == 1, 1.0, -1.0)
    else:
        col, sign = column, np.ones(n)
    base = sign * intercept[col]
    decision = base.copy()
    found_q, found_c, found_v = [], [], []
    for part in parts:
        starts = part.indptr[rows]
        lens = part.indptr[rows + 1] - starts
        total = int(lens.sum())
        q = np.repeat(np.arange(n), lens)
        at = np.repeat(starts - (np.cumsum(lens) - lens), lens) + np.arange(total)
        feat = part.indices[at]
        width = part.coef.shape[1]
        # One flat gather of each entry's coefficient (a 2-D fancy index is slower).
        contrib = part.data[at] * part.coef.ravel().take(feat * width + col[q])
        if kind == "binary":
            contrib *= sign[q]
        decision += np.bincount(q, weights=contrib, minlength=n)
        keep = contrib > 0.0
        found_q.append(q[keep])
        found_c.append(feat[keep])
        found_v.append(contrib[keep])
    chosen: list[list[Contribution]] = [[] for _ in range(n)]
    if top > 0 and found_q:
        # The best ``top`` of each vectorizer, then the best ``top`` of those.
        best = [_segment_top(q, v, top) for q, v in zip(found_q, found_v, strict=True)]
        q = np.concatenate([found_q[p][b] for p, b in enumerate(best)])
        feat = np.concatenate([found_c[p][b] for p, b in enumerate(best)])
        value = np.concatenate([found_v[p][b] for p, b in enumerate(best)])
        which = np.concatenate([np.full(len(b), p) for p, b in enumerate(best)])
        # Largest first; ties go to the earlier vectorizer, then the earlier column.
        order = np.lexsort((feat, which, -value, q))
        q, feat, value, which = q[order], feat[order], value[order], which[order]
        first = np.searchsorted(q, q, side="left")
        keep = np.flatnonzero(np.arange(len(q)) - first < top)
        for i, f, v, p in zip(
            q[keep].tolist(),
            feat[keep].tolist(),
            value[keep].tolist(),
            which[keep].tolist(),
            strict=True,
        ):
            part = parts[p]
            chosen[i].append(Contribution(part.vocabulary[f], part.analyzer, v))
    out: list[LabelExplanation | None] = []
    for i, r in enumerate(requests):
        if constants[int(col[i])] is not None:
            out.append(None)
            continue
        listed = chosen[i]
        d, b = float(decision[i]), float(base[i])
        rest = d - b - sum(c.contribution for c in listed)
        out.append(LabelExplanation(r.dimension, r.label, 0.0, d, b, tuple(listed), rest))
    return out


def _segment_top(q: np.ndarray, values: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` largest values of each run of equal ``q`` (``q`` ascending);
    ties go to the earlier position.  ``k`` passes of segment maxima: no sort."""
    import numpy as np

    if not len(q):
        return np.zeros(0, dtype=np.int64)
    v = values.copy()
    starts = np.flatnonzero(np.r_[True, q[1:] != q[:-1]])
    lengths = np.diff(starts, append=len(q))
    chosen = []
    for _ in range(k):
        top = np.maximum.reduceat(v, starts)
        hit = np.flatnonzero((v == np.repeat(top, lengths)) & (v > -np.inf))
        if not len(hit):
            break
        segment = np.searchsorted(starts, hit, side="right")
        first = hit[np.r_[True, segment[1:] != segment[:-1]]]
        chosen.append(first)
        v[first] = -np.inf
    return np.sort(np.concatenate(chosen)) if chosen else np.zeros(0, dtype=np.int64)


def explain_by_head(
    requests: Sequence[ExplainRequest],
    explain_head: Any,
) -> list[LabelExplanation | None]:
    """Run ``explain_head(dimension, requests)`` once per dimension; results in request order."""
    out: list[LabelExplanation | None] = [None] * len(requests)
    by_dim: dict[str, list[int]] = {}
    for i, r in enumerate(requests):
        by_dim.setdefault(r.dimension, []).append(i)
    for dim, positions in by_dim.items():
        for i, e in zip(
            positions, explain_head(dim, [requests[i] for i in positions]), strict=True
        ):
            out[i] = e
    return out


def explain_hits(
    model: Any,
    texts: Sequence[str],
    scores: Mapping[str, np.ndarray],
    masks: Mapping[str, np.ndarray],
    top: int = DEFAULT_TOP,
) -> list[dict[str, tuple[LabelExplanation, ...]]]:
    """Explanations of the labels in ``masks`` (``(n, n_labels)`` booleans per dimension),
    per text and dimension, highest score first (as the tagged labels are ordered).

    Raises
    ------
    NotExplainableError
        When the model's scorer cannot explain its scores.
    """
    import numpy as np

    explain = getattr(model.scorer, "explain", None)
    if explain is None:
        raise NotExplainableError(
            f"{model.path}: the model's scorer ({type(model.scorer).__name__}) cannot explain "
            "its scores; explanations need a linear model (TF-IDF into logistic regression)"
        )
    labels = model.labels
    requests: list[ExplainRequest] = []
    values: list[float] = []
    for dim in model.dimensions:
        p = scores[dim]
        rows, cols = np.nonzero(masks[dim])
        found = p[rows, cols]
        order = np.lexsort((-found, rows))
        for r, c, v in zip(
            rows[order].tolist(), cols[order].tolist(), found[order].tolist(), strict=True
        ):
            requests.append(ExplainRequest(r, dim, c, labels[dim][c]))
            values.append(v)
    out: list[dict[str, list[LabelExplanation]]] = [
        {dim: [] for dim in model.dimensions} for _ in texts
    ]
    stage = getattr(model, "context", None)
    revised = () if stage is None else stage.dimensions
    if requests:
        from framing.runtime.calibration import logit

        for req, value, found_expl in zip(
            requests, values, explain(texts, requests, top), strict=True
        ):
            if found_expl is not None:
                e = found_expl
                added = None
                if e.dimension in revised:
                    added = float(logit(np.array(value))) - e.decision
                why = LabelExplanation(
                    e.dimension, e.label, value, e.decision, e.intercept, e.ngrams, e.rest, added
                )
                out[req.row][req.dimension].append(why)
    return [{dim: tuple(found) for dim, found in per.items()} for per in out]


def explain_sentence(
    model: Any,
    sentence: str,
    *,
    labels: Sequence[str] | None = None,
    top: int = DEFAULT_TOP,
) -> SentenceExplanation:
    """Explain the labels a model gives one sentence (or the ``labels`` named).

    Parameters
    ----------
    model
        A loaded :class:`framing.runtime.model.Model`.
    sentence
        The sentence, as the tagger would see it.
    labels
        Label ids to explain whether predicted or not (``"dimension:label"`` when an
        id is in two dimensions); default: the labels predicted for the sentence.
    top
        How many n-grams to list per label.

    Returns
    -------
    SentenceExplanation

    Raises
    ------
    NotExplainableError
        When the model is not linear.
    UsageError
        When a label is not one of the model's, or ``top`` is negative.
    """
    from framing.errors import UsageError

    if not isinstance(sentence, str):
        raise TypeError(f"sentence must be a str, not {type(sentence).__name__}")
    if top < 0:
        raise UsageError(f"top must be 0 or more, got {top}")
    scores = model.predict_proba([sentence])
    if labels is None:
        from framing.runtime.labels import label_masks

        meta = model.meta
        masks = label_masks({dim: scores[dim] for dim in model.dimensions}, meta.labels, meta)
    else:
        masks = _label_masks(model, labels)
    return SentenceExplanation(sentence, explain_hits(model, [sentence], scores, masks, top)[0])


def _label_masks(model: Any, wanted: Sequence[str]) -> dict[str, np.ndarray]:
    import numpy as np

    from framing.errors import UsageError

    masks = {dim: np.zeros((1, len(ids)), dtype=bool) for dim, ids in model.labels.items()}
    for name in wanted:
        dim_given, _, label = name.rpartition(":")
        places = [
            (dim, ids.index(label))
            for dim, ids in model.labels.items()
            if label in ids and dim_given in ("", dim)
        ]
        if not places:
            known = ", ".join(f"{d}:{x}" for d, ids in model.labels.items() for x in ids)
            raise UsageError(f"label '{name}' is not one of the model's labels ({known})")
        if len(places) > 1:
            raise UsageError(
                f"label '{name}' is in several dimensions; write it as "
                + " or ".join(f"'{d}:{label}'" for d, _ in places)
            )
        dim, col = places[0]
        masks[dim][0, col] = True
    return masks


def check_explainable(model: Any) -> None:
    """Raise :class:`NotExplainableError` now, before any work, if the model cannot explain."""
    every = [f"{dim}:{label}" for dim, ids in model.labels.items() for label in ids]
    explain_sentence(model, "", labels=every, top=0)

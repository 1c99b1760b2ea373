"""The article-context stage: a sentence's scores revised with its article's scores.

A model may hold ``context.json`` (written by ``framing train`` when the config has a
``[context]`` section; ``meta.json`` then names the stage in ``context``).  For every
label of the dimensions it covers, the stage is a small logistic regression on the
first stage's log-odds ``z`` (the scorer's score through :func:`logit`) of the sentence
and of its article, in the order of :data:`FEATURES`:

``own``            the sentence's own ``z``;
``previous``       ``z`` of the sentence before it in the article (0 for the first);
``next``           ``z`` of the sentence after it (0 for the last);
``article_max``    the highest ``z`` of the article's other sentences (0 when alone);
``article_mean``   the mean ``z`` of the article's other sentences (0 when alone);
``headline``       ``z`` of the article's (first) headline (0 for that headline itself
                   and for an article without one);
``is_headline``    1 for the headline, else 0;
``position``       the sentence's place in the article, 0 (first) to 1 (last);
``length``         the sentence's length, ``log(1 + n)`` for its ``n`` words
                   (:func:`sentence_length`; stages of kind ``article-context.v2``).

The revised score is ``1 / (1 + exp(-(intercept + sum of coefficient * feature)))``;
thresholds, calibration and labels then apply to it as to any score.  A sentence
without other sentences in its article (scored alone: ``Model.predict_proba(texts)``
without a layout, ``Model.explain``, a one-sentence article) has no context: every
feature but ``own`` and ``length`` (its own) takes its mean over the training
sentences (``fill``), so that it is scored as in an average article.  (Zeros instead
would be a context the stage never saw in training: on the style-shifted dev set that
doubled the frames predicted.)

Where a sentence sits is a :class:`Layout`: an article key and a place per sentence,
whether it is the headline, and its length.  The length was added in the stage's second
kind (``article-context.v2``; chosen on the style-shifted dev set, BENCHMARKS.md round 6;
in the bundled model its weight is positive for every frame: at the same first-stage
scores a long sentence is likelier to carry a frame, a short one less).  A folder with
a stage of the first kind (8 features, no length) loads and scores as before.  Everything
is plain numbers; applying the stage needs numpy only.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from framing.errors import ModelError
from framing.runtime import _native
from framing.runtime.calibration import logit, sigmoid

if TYPE_CHECKING:
    import numpy as np

    from framing.format.records import Sentence
    from framing.runtime.meta import ModelMeta

__all__ = [
    "CONTEXT_FILE",
    "CONTEXT_KIND",
    "FEATURES",
    "ContextStage",
    "KINDS",
    "Layout",
    "context_features",
    "load_context",
    "sentence_length",
    "stage_inputs",
]

CONTEXT_FILE = "context.json"
#: The features of the stage's first kind; ``own`` is first, the article's after it.
_ARTICLE_FEATURES = (
    "own",
    "previous",
    "next",
    "article_max",
    "article_mean",
    "headline",
    "is_headline",
    "position",
)
#: The features of the stage ``framing train`` fits (:data:`CONTEXT_KIND`).
FEATURES = (*_ARTICLE_FEATURES, "length")
#: The stage's name in ``meta.json``; a stage whose features change gets a new name.
CONTEXT_KIND = "article-context.v2"
#: Every kind this framing reads, with its features in order.
KINDS: dict[str, tuple[str, ...]] = {
    "article-context.v1": _ARTICLE_FEATURES,
    CONTEXT_KIND: FEATURES,
}


def sentence_length(texts: Sequence[str]) -> np.ndarray:
    """The ``length`` feature of each text: ``log(1 + n)`` for its ``n`` whitespace-separated
    words (``len(text.split())``); the compiled kernel counts them when it is built (the same
    numbers, without splitting: splitting was about a tenth of a ``framing tag`` run)."""
    import numpy as np

    if _native.speedups is not None:
        counts = np.frombuffer(_native.speedups.word_counts(list(texts)), dtype=np.int64)
        return np.log1p(counts.astype(float))
    return np.log1p(np.fromiter(map(len, map(str.split, texts)), dtype=float, count=len(texts)))


@dataclass(frozen=True)
class Layout:
    """Where each of ``n`` scored sentences sits.

    ``article[i]`` is an integer key (0 or more) of sentence ``i``'s article, ``place[i]`` orders
    the sentences of one article (any increasing numbers), ``headline[i]`` says whether
    it is the article's headline, ``texts[i]`` is its text.  Rows of one article need not
    be adjacent.
    """

    article: np.ndarray
    place: np.ndarray
    headline: np.ndarray
    texts: Sequence[str]

    @cached_property
    def length(self) -> np.ndarray:
        """:func:`sentence_length` of each text (computed when a stage asks for it)."""
        return sentence_length(self.texts)

    @classmethod
    def alone(cls, texts: Sequence[str]) -> Layout:
        """Every sentence an article of its own (no context)."""
        import numpy as np

        n = len(texts)
        return cls(np.arange(n), np.zeros(n, dtype=int), np.zeros(n, dtype=bool), texts)

    @classmethod
    def from_bounds(
        cls, bounds: Sequence[int], headline: Sequence[bool], texts: Sequence[str]
    ) -> Layout:
        """Articles as consecutive runs of rows, ``bounds[k]:bounds[k + 1]``, in order."""
        import numpy as np

        sizes = np.diff(np.asarray(bounds, dtype=int))
        article = np.repeat(np.arange(len(sizes)), sizes)
        return cls(
            article,
            np.arange(len(article)),
            np.asarray(headline, dtype=bool),
            texts,
        )

    @classmethod
    def from_keys(
        cls,
        articles: Sequence[str],
        places: Sequence[int | None],
        headline: Sequence[bool],
        texts: Sequence[str],
    ) -> Layout:
        """From document ids and sentence indexes (a missing index keeps the row order)."""
        import numpy as np

        keys: dict[str, int] = {}
        article = np.array([keys.setdefault(a, len(keys)) for a in articles], dtype=int)
        rank = np.arange(len(article))
        given = np.array([-1 if p is None else int(p) for p in places], dtype=np.int64)
        # sentences with an index first, by index; then the others in row order
        place = np.where(given >= 0, given, given.max(initial=0) + 1 + rank)
        return cls(article, place, np.asarray(headline, dtype=bool), texts)

    @classmethod
    def of_sentences(cls, sentences: Sequence[Sentence]) -> Layout:
        """Sentence records placed by their ``doc_id``, ``sent_index`` and headline mark."""
        from framing.format.article import is_headline

        return cls.from_keys(
            [s.doc_id for s in sentences],
            [s.sent_index for s in sentences],
            [is_headline(s.meta) for s in sentences],
            [s.text for s in sentences],
        )


def context_features(
    z: np.ndarray, layout: Layout, features: Sequence[str] = FEATURES
) -> np.ndarray:
    """``(len(features), n, n_labels)``: the stage's inputs for first-stage log-odds ``z``
    (``(n, n_labels)``) of sentences placed by ``layout`` (see the module docstring);
    ``features`` are those of one of :data:`KINDS`."""
    import numpy as np

    z = np.asarray(z, dtype=float)
    n, width = z.shape
    f = np.zeros((len(features), n, width))
    if not n:
        return f
    order = np.lexsort((layout.place, layout.article))
    in_order = bool((order[1:] > order[:-1]).all())  # as tagging gives them: no reordering
    zs = z if in_order else z[order]
    art = layout.article[order]
    head = layout.headline[order]
    new = np.r_[True, art[1:] != art[:-1]]
    starts = np.flatnonzero(new)
    group = np.cumsum(new) - 1
    size = np.diff(np.r_[starts, n])[group]
    alone = (size == 1)[:, None]
    f[0] = zs
    f[1, 1:] = zs[:-1]
    f[1, starts] = 0.0  # the first sentence of an article has none before it
    f[2, :-1] = zs[1:]
    f[2, np.r_[starts[1:] - 1, n - 1]] = 0.0  # nor the last one after it
    top = np.maximum.reduceat(zs, starts, axis=0)[group]
    is_top = zs == top
    tops = np.add.reduceat(is_top.astype(np.int64), starts, axis=0)[group]
    second = np.maximum.reduceat(np.where(is_top, -np.inf, zs), starts, axis=0)[group]
    # the best of the others: the top, unless this sentence is the only one at the top
    f[3] = np.where(alone, 0.0, np.where(is_top & (tops == 1), second, top))
    total = np.add.reduceat(zs, starts, axis=0)[group]
    f[4] = np.where(alone, 0.0, (total - zs) / np.maximum(size - 1, 1)[:, None])
    first_head = np.full(len(starts), -1)
    rows = np.flatnonzero(head)[::-1]
    first_head[group[rows]] = rows  # reversed, so the article's first headline wins
    where = first_head[group]
    has = (where >= 0) & (where != np.arange(n))
    f[5, has] = zs[where[has]]
    f[6] = head[:, None]
    f[7] = ((np.arange(n) - starts[group]) / np.maximum(size - 1, 1))[:, None]
    if len(features) > len(_ARTICLE_FEATURES):
        f[len(_ARTICLE_FEATURES)] = (layout.length if in_order else layout.length[order])[:, None]
    if in_order:
        return f
    out = np.empty_like(f)
    out[:, order] = f
    return out


def stage_inputs(
    z: np.ndarray, layout: Layout, fill: np.ndarray, features: Sequence[str] = FEATURES
) -> np.ndarray:
    """:func:`context_features`, with the article's features of a sentence alone in its
    article (all but ``own`` and ``length``) replaced by ``fill``
    (``(n_labels, len(features))``)."""
    import numpy as np

    f = context_features(z, layout, features)
    if f.shape[1]:
        alone = np.bincount(layout.article)[layout.article] == 1
        if alone.any():
            article = slice(1, len(_ARTICLE_FEATURES))
            f[article, alone] = np.asarray(fill).T[article, None, :]
    return f


@dataclass(frozen=True)
class ContextStage:
    """The fitted stage: per dimension, one row of coefficients and one of fill values
    (both in the order of its kind's features, :data:`KINDS`) and one intercept per label,
    labels in the model's column order."""

    coef: dict[str, np.ndarray]
    intercept: dict[str, np.ndarray]
    fill: dict[str, np.ndarray]
    #: What the trainer recorded about the fit (C, examples, folds); not used to score.
    info: Mapping[str, Any]
    #: One of :data:`KINDS`: which features the coefficients weigh.
    kind: str = CONTEXT_KIND

    @property
    def features(self) -> tuple[str, ...]:
        return KINDS[self.kind]

    @property
    def dimensions(self) -> tuple[str, ...]:
        return tuple(self.coef)

    def apply(self, scores: Mapping[str, np.ndarray], layout: Layout) -> dict[str, np.ndarray]:
        """The revised scores of the stage's dimensions; other dimensions as given."""
        import numpy as np

        out = dict(scores)
        for dim, coef in self.coef.items():
            if dim not in scores:
                continue
            f = stage_inputs(logit(scores[dim]), layout, self.fill[dim], self.features)
            decision = np.einsum("fnl,lf->nl", f, coef) + self.intercept[dim]
            out[dim] = sigmoid(decision)
        return out

    def to_json(self) -> str:
        data = {
            "kind": self.kind,
            "features": list(self.features),
            "dimensions": {
                dim: {
                    "coef": [[float(v) for v in row] for row in self.coef[dim]],
                    "intercept": [float(v) for v in self.intercept[dim]],
                    "fill": [[float(v) for v in row] for row in self.fill[dim]],
                }
                for dim in self.coef
            },
            "info": dict(self.info),
        }
        return json.dumps(data, indent=1) + "\n"

    @classmethod
    def from_dict(cls, data: Any, labels: Mapping[str, Sequence[str]], where: str) -> ContextStage:
        """Validate a parsed ``context.json`` against the model's labels.

        Raises
        ------
        ModelError
            Naming the file and the first thing that is wrong.
        """

        if not isinstance(data, Mapping):
            raise ModelError(f"{where}: expected a JSON object")
        kind = data.get("kind")
        if not isinstance(kind, str) or kind not in KINDS:
            raise ModelError(
                f"{where}: context stage {kind!r} is unknown to this framing "
                f"(it reads {', '.join(map(repr, KINDS))}); upgrade framing"
            )
        features = KINDS[kind]
        if data.get("features") != list(features):
            raise ModelError(f"{where}: 'features' must be {list(features)} for {kind!r}")
        dims = data.get("dimensions")
        if not isinstance(dims, Mapping) or not dims:
            raise ModelError(f"{where}: 'dimensions' must map dimensions to coefficients")
        coef: dict[str, np.ndarray] = {}
        intercept: dict[str, np.ndarray] = {}
        fill: dict[str, np.ndarray] = {}
        for dim, entry in dims.items():
            if dim not in labels:
                raise ModelError(f"{where}: dimension '{dim}' is not one of the model's")
            width = len(labels[dim])
            if not isinstance(entry, Mapping):
                raise ModelError(f"{where}: '{dim}' must hold 'coef', 'intercept' and 'fill'")
            shape = (width, len(features))
            coef[str(dim)] = _numbers(entry.get("coef"), shape, f"{where}: {dim}.coef")
            intercept[str(dim)] = _numbers(
                entry.get("intercept"), (width,), f"{where}: {dim}.intercept"
            )
            fill[str(dim)] = _numbers(entry.get("fill"), shape, f"{where}: {dim}.fill")
        info = data.get("info", {})
        if not isinstance(info, Mapping):
            raise ModelError(f"{where}: 'info' must be an object")
        return cls(coef, intercept, fill, dict(info), kind)


def _numbers(value: Any, shape: tuple[int, ...], where: str) -> np.ndarray:
    import numpy as np

    def flat(v: Any, depth: int) -> list[float]:
        if depth == len(shape):
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                raise ModelError(f"{where}: {v!r} is not a finite number")
            return [float(v)]
        if not isinstance(v, list) or len(v) != shape[depth]:
            raise ModelError(f"{where}: expected shape {list(shape)}")
        return [x for item in v for x in flat(item, depth + 1)]

    return np.array(flat(value, 0), dtype=float).reshape(shape)


def load_context(folder: str | Path, meta: ModelMeta) -> ContextStage | None:
    """The context stage of a model folder, or None when ``meta.json`` names none.

    Raises
    ------
    ModelError
        When ``meta.json`` names a stage this framing does not know, or ``context.json``
        is missing, not JSON, or does not fit the model's labels.
    """
    if meta.context is None:
        return None
    file = Path(folder) / CONTEXT_FILE
    if meta.context not in KINDS:
        raise ModelError(
            f"{folder}: the model's context stage '{meta.context}' is unknown to this "
            f"framing (it reads {', '.join(map(repr, KINDS))}); upgrade framing"
        )
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(
            f"{file} is missing, although meta.json names a context stage; copy the whole "
            "model folder"
        ) from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ModelError(f"{file}: not readable JSON ({exc}); retrain the model") from None
    try:
        stage = ContextStage.from_dict(data, meta.labels, str(file))
        if stage.kind != meta.context:
            raise ModelError(
                f"{file}: the stage is '{stage.kind}' but meta.json names '{meta.context}'"
            )
    except ModelError as exc:
        raise ModelError(f"{exc}; retrain the model or copy the whole folder again") from None
    return stage

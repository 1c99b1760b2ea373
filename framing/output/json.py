"""The JSON of tagged articles and sentences (``docs/output-format.md``).

:func:`article_json` and :func:`sentence_json` give the text of
``json.dumps(result.to_dict(), ensure_ascii=False)``, several times faster;
:func:`tag_json_lines` writes the same lines straight from the score arrays,
without building result objects (what ``framing tag`` does for JSONL), with the
compiled writer of ``framing.runtime._speedups`` when it is built.  A test checks
that all of them give the same text.
"""

from __future__ import annotations

import json
import os
from collections.abc import Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from json.encoder import encode_basestring as _string_json
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from framing.runtime import _native
from framing.runtime.inputs import (
    FileSlice,
    InputFailure,
    RawInput,
    crashed_raw,
    raw_batches,
    raw_items,
)
from framing.runtime.profiles import profile_stats
from framing.runtime.results import (
    OUTPUT_VERSION,
    Evidence,
    LabelScore,
    TaggedArticle,
    TaggedSentence,
)
from framing.runtime.tagging import (
    DEFAULT_BATCH_SIZE,
    Labeler,
    hit_arrays,
    score_articles,
    split_articles,
    tag_batch,
)

if TYPE_CHECKING:
    import numpy as np

    from framing.runtime.model import Model
    from framing.runtime.ood import OutOfDistribution

__all__ = ["JsonBatch", "article_json", "sentence_json", "tag_json_batches", "tag_json_lines"]

_KEYS: dict[str, str] = {}


_EMPTY_DIMS: dict[str, str] = {}


def _float_json(value: float) -> str:
    """A float as ``json.dumps`` writes it (``NaN``/``Infinity`` included)."""
    return repr(value) if value - value == 0.0 else json.dumps(value)


def _strength_json(value: float | None) -> str:
    """A profile strength: a float, or null when the model has no calibration maps (NaN
    in the arrays)."""
    return "null" if value is None or value != value else _float_json(value)


def _name_json(text: str) -> str:
    """A label or dimension id as a JSON string (memoised: ids repeat on every line)."""
    found = _KEYS.get(text)
    if found is None:
        found = _KEYS[text] = _string_json(text)
    return found


def _optional_json(text: str | None) -> str:
    return "null" if text is None else _string_json(text)


def _evidence_text(
    e: Evidence, encoded: list[str], sentences: Sequence[TaggedSentence], n: int
) -> str:
    """The JSON of an evidence text, reusing its sentence's encoding (the usual case)."""
    at = e.index - sentences[0].index if n else -1  # sentence 0 is the headline, if any
    if 0 <= at < n and sentences[at].text is e.text:
        return encoded[at]
    return _string_json(e.text)


def _labels_json(labels: Mapping[str, Sequence[LabelScore]]) -> str:
    parts = []
    for dim, found in labels.items():
        if found:
            items = ", ".join(
                [
                    f'{{"label": {_name_json(ls.label)}, "score": {_float_json(ls.score)}}}'
                    for ls in found
                ]
            )
            parts.append(f"{_name_json(dim)}: [{items}]")
        else:
            empty = _EMPTY_DIMS.get(dim)
            if empty is None:
                empty = _EMPTY_DIMS[dim] = f"{_name_json(dim)}: []"
            parts.append(empty)
    return ", ".join(parts)


def sentence_json(sentence: TaggedSentence) -> str:
    """``json.dumps(sentence.to_dict(), ensure_ascii=False)``, several times faster."""
    if sentence.explanations is not None:
        return json.dumps(sentence.to_dict(), ensure_ascii=False)
    if sentence.start is None:
        head = f'{{"index": {sentence.index}, "text": {_string_json(sentence.text)}, "labels": {{'
    else:
        head = (
            f'{{"index": {sentence.index}, "start": {sentence.start}, "end": {sentence.end}, '
            f'"text": {_string_json(sentence.text)}, "labels": {{'
        )
    if sentence.scores is None:
        return f"{head}{_labels_json(sentence.labels)}}}}}"
    scores = json.dumps(sentence.scores, ensure_ascii=False)
    if sentence.probabilities is not None:
        probs = json.dumps(sentence.probabilities, ensure_ascii=False)
        scores = f'{scores}, "probabilities": {probs}'
    return f'{head}{_labels_json(sentence.labels)}}}, "scores": {scores}}}'


def _ood_json(check: OutOfDistribution | None) -> str:
    return "null" if check is None else check.to_json()


def article_json(article: TaggedArticle, *, include_text: bool = False) -> str:
    """``json.dumps(article.to_dict(...), ensure_ascii=False)``, several times faster."""
    parts = [
        f'{{"version": {_string_json(OUTPUT_VERSION)}, "doc_id": {_optional_json(article.doc_id)}, '
        f'"title": {_optional_json(article.title)}, '
        f'"model": {json.dumps(article.model, ensure_ascii=False)}, '
        f'"n_sentences": {len(article.sentences)}, '
        f'"out_of_distribution": {_ood_json(article.out_of_distribution)}, '
    ]
    if include_text:
        parts.append(f'"text": {_string_json(article.text)}, ')
    if article.document is not None:
        document = json.dumps(article.document.to_dict(), ensure_ascii=False)
        parts.append(f'"document": {document}, ')
    parts.append('"sentences": [')
    enc, labels_json = _string_json, _labels_json
    texts = [enc(s.text) for s in article.sentences]
    parts.append(
        ", ".join(
            [
                f'{{"index": {s.index}, "start": {s.start}, "end": {s.end}, '
                f'"text": {text}, "labels": {{{labels_json(s.labels)}}}}}'
                if s.scores is None and s.start is not None and s.explanations is None
                else sentence_json(s)
                for s, text in zip(article.sentences, texts, strict=True)
            ]
        )
    )
    parts.append('], "profile": {')
    n = len(texts)
    dims = []
    sentences = article.sentences
    for dim, labels in article.profile.items():
        items = []
        for label, p in labels.items():
            if p.evidence:
                ev = ", ".join(
                    [
                        f'{{"index": {e.index}, '
                        f'"text": {_evidence_text(e, texts, sentences, n)}, '
                        f'"score": {_float_json(e.score)}}}'
                        for e in p.evidence
                    ]
                )
            else:
                ev = ""
            items.append(
                f'{_name_json(label)}: {{"count": {p.count}, '
                f'"share": {_float_json(p.share)}, "max_score": {_float_json(p.max_score)}, '
                f'"mean_score": {_float_json(p.mean_score)}, '
                f'"strength": {_strength_json(p.strength)}, '
                f'"evidence": [{ev}]}}'
            )
        dims.append(f"{_name_json(dim)}: {{{', '.join(items)}}}")
    parts.append(", ".join(dims))
    parts.append("}")
    if article.meta:
        parts.append(f', "meta": {json.dumps(article.meta, ensure_ascii=False)}')
    parts.append("}")
    return "".join(parts)


def _groups(keys: np.ndarray) -> tuple[list[int], list[int], list[int]]:
    """Runs of equal values in ``keys``: each run's value, start and end."""
    import numpy as np

    if not len(keys):
        return [], [], []
    new = np.ones(len(keys), dtype=bool)
    np.not_equal(keys[1:], keys[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], len(keys))
    return keys[starts].tolist(), starts.tolist(), ends.tolist()


def _tag_batch_json(
    plan: Labeler,
    model: Model,
    articles: Sequence[tuple[str | None, str | None, str]],
    as_bytes: bool = False,
) -> list[tuple[Any, int]]:
    """``[(article_json(a), len(a.sentences)) for a in tag_batch(...)]``, without the objects.

    The JSON is written straight from the score arrays, a batch at a time, by the
    compiled module when it is there; a test checks that both writers give the same
    text as the objects.
    """
    import numpy as np

    if model.level == "document":  # one short line per article: the objects are cheap
        lines = [article_json(a) for a in tag_batch(plan, model, articles, False)]
        return list(zip(_as_lines(lines, as_bytes), [0] * len(lines), strict=True))
    texts, starts, ends, indexes, bounds = split_articles(articles)
    n, n_articles = len(texts), len(articles)
    sizes = [bounds[a + 1] - bounds[a] for a in range(n_articles)]
    scores, checks = score_articles(model, articles, texts, starts, ends, bounds)
    if not all(np.isfinite(p).all() for p in scores.values()):  # repr() would not be JSON
        lines = [article_json(a) for a in tag_batch(plan, model, articles, False)]
        return list(zip(_as_lines(lines, as_bytes), sizes, strict=True))
    masks = plan.masks(scores)
    hits = {dim: hit_arrays(scores[dim], masks[dim]) for dim in plan.dims}
    stats = profile_stats(plan, scores, masks, bounds)
    heads = [
        f'{{"version": {_string_json(OUTPUT_VERSION)}, "doc_id": {_optional_json(doc_id)}, '
        f'"title": {_optional_json(title)}, "model": {plan.model_json}, '
        f'"n_sentences": {sizes[a]}, "out_of_distribution": {_ood_json(checks[a])}, '
        for a, (doc_id, title, _) in enumerate(articles)
    ]
    if _native.speedups is not None:
        dims = []
        for dim in plan.dims:
            st = stats[dim]
            dims.append(
                (
                    _name_json(dim),
                    [_name_json(name) for name in plan.labels[dim]],
                    *hits[dim],
                    *(st.counts, st.shares, st.maxes, st.means),
                    *(st.ev_articles, st.ev_cols, st.ev_rows, st.ev_scores),
                    st.strengths,
                )
            )
        as_array = partial(np.array, dtype=np.int64)
        # A headline has no offsets: -1 tells the compiled writer to leave them out.
        offsets = [[-1 if x is None else x for x in xs] for xs in (starts, ends)]
        lines = _native.speedups.article_json(
            heads,
            *map(as_array, (bounds, indexes, *offsets)),
            texts,
            dims,
            as_bytes,
        )
        return list(zip(lines, sizes, strict=True))
    encoded = list(map(_string_json, texts))
    per_dim = []
    profiles: list[list[str]] = [[] for _ in range(n_articles)]
    for dim in plan.dims:
        key = _name_json(dim)
        names = [_name_json(name) for name in plan.labels[dim]]
        # Sentence labels: one string per hit, joined per sentence.
        rows, cols, values = hits[dim]
        items = [
            f'{{"label": {names[c]}, "score": {v!r}}}'
            for c, v in zip(cols.tolist(), values.tolist(), strict=True)
        ]
        parts = [f"{key}: []"] * n
        for r, lo, hi in zip(*_groups(rows), strict=True):
            parts[r] = f"{key}: [{', '.join(items[lo:hi])}]"
        per_dim.append(parts)
        # Profile: one string per (article, label) carried, with its evidence.
        st = stats[dim]
        evidence = [
            f'{{"index": {indexes[r]}, "text": {encoded[r]}, "score": {v!r}}}'
            for r, v in zip(st.ev_rows.tolist(), st.ev_scores.tolist(), strict=True)
        ]
        _, ev_lo, ev_hi = _groups(st.ev_articles * len(names) + st.ev_cols)
        arts, cols = np.nonzero(st.counts)
        entries = [
            f'{names[c]}: {{"count": {k}, "share": {sh!r}, "max_score": {mx!r}, '
            f'"mean_score": {mn!r}, "strength": {_strength_json(sg)}, '
            f'"evidence": [{", ".join(evidence[lo:hi])}]}}'
            for c, k, sh, mx, mn, sg, lo, hi in zip(
                cols.tolist(),
                st.counts[arts, cols].tolist(),
                st.shares[arts, cols].tolist(),
                st.maxes[arts, cols].tolist(),
                st.means[arts, cols].tolist(),
                st.strengths[arts, cols].tolist(),
                ev_lo,
                ev_hi,
                strict=True,
            )
        ]
        empty = f"{key}: {{}}"
        for profile in profiles:
            profile.append(empty)
        for a, lo, hi in zip(*_groups(arts), strict=True):
            profiles[a][-1] = f"{key}: {{{', '.join(entries[lo:hi])}}}"
    labels = list(map(", ".join, zip(*per_dim, strict=True))) if per_dim else [""] * n
    sentences = [
        f'{{"index": {i}, "start": {s}, "end": {e}, "text": {t}, "labels": {{{lab}}}}}'
        if s is not None
        else f'{{"index": {i}, "text": {t}, "labels": {{{lab}}}}}'
        for i, s, e, t, lab in zip(indexes, starts, ends, encoded, labels, strict=True)
    ]
    lines = [
        f'{heads[a]}"sentences": [{", ".join(sentences[bounds[a] : bounds[a + 1]])}], '
        f'"profile": {{{", ".join(profiles[a])}}}}}'
        for a in range(n_articles)
    ]
    return list(zip(_as_lines(lines, as_bytes), sizes, strict=True))


def _with_meta(line: Any, meta: Mapping[str, Any] | None) -> Any:
    """A ready-made article line (str, or UTF-8 bytes ending in a newline) with ``meta``
    as its last key, as :func:`article_json` writes it."""
    if not meta:
        return line
    extra = f', "meta": {json.dumps(meta, ensure_ascii=False)}}}'
    if isinstance(line, bytes):
        end = len(line.rstrip(b"\n"))
        return line[: end - 1] + extra.encode("utf-8") + line[end:]
    return line[:-1] + extra


def _as_lines(lines: list[str], as_bytes: bool) -> list[Any]:
    """JSON strings as they are, or as UTF-8 JSONL lines (bytes ending in a newline)."""
    return [(line + "\n").encode("utf-8") for line in lines] if as_bytes else lines


def tag_json_lines(
    paths: Sequence[str | Path],
    model: Model,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    stdin: IO[bytes] | None = None,
    on_file: Any = None,
    as_bytes: bool = False,
    n_jobs: int = 1,
    doc_ids: Sequence[str] | None = None,
    meta: Mapping[str, Any] | None = None,
) -> Iterator[tuple[Any, int] | InputFailure]:
    """:func:`framing.runtime.tagging.tag` as JSON lines: ``(article_json(a), n_sentences)``.

    The same text as :func:`article_json` of ``tag``'s articles, written straight from
    the scores without building the result objects (what ``framing tag`` does for
    JSONL output).  With ``as_bytes`` each line is UTF-8 ``bytes`` ending in a
    newline, ready for a binary file.  Failures come out as :class:`InputFailure`
    in their place.  ``meta`` and ``n_jobs`` as in :func:`framing.runtime.tagging.tag`; ``doc_ids``:
    the ids of ``.txt`` inputs, one per path (see ``framing.runtime.inputs.input_batches``).
    """
    from framing.runtime.parallel import map_with_model

    # With several workers, reading and parsing the inputs is theirs.
    batches = raw_batches(paths, batch_size, stdin, on_file, doc_ids, by_reference=n_jobs > 1)
    payloads = ((batch, as_bytes, meta) for batch in batches)
    if n_jobs > 1:
        for items in map_with_model(
            model, _json_inputs, payloads, n_jobs=n_jobs, on_crash=crashed_raw
        ):
            yield from items
        return
    labeler = Labeler(model)
    for payload in payloads:
        yield from _json_inputs(model, labeler, payload)


@dataclass(slots=True)
class JsonBatch:
    """A batch of inputs tagged as JSONL: every article's line (UTF-8, in input order)
    in ``data``, or in the file ``part`` when its worker wrote them there; how many
    articles and sentences that is, and the inputs that failed."""

    data: bytes = b""
    articles: int = 0
    sentences: int = 0
    failures: list[InputFailure] = field(default_factory=list)
    part: str | None = None

    def write_to(self, out: IO[bytes]) -> None:
        """Append the batch's lines to ``out`` (a part file is copied, then removed)."""
        if self.part is None:
            out.write(self.data)
            return
        from framing.files import append_file

        append_file(self.part, out)
        os.unlink(self.part)


def tag_json_batches(
    paths: Sequence[str | Path],
    model: Model,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    stdin: IO[bytes] | None = None,
    on_file: Any = None,
    n_jobs: int = 1,
    meta: Mapping[str, Any] | None = None,
    part_dir: str | Path | None = None,
) -> Generator[JsonBatch, None, None]:
    """:func:`tag_json_lines` (``as_bytes``) a batch at a time, each batch's lines joined:
    what ``framing tag`` writes.

    With several workers the main process only hands out work: each worker reads its
    inputs itself (files are given by where their bytes are, not sent) and, with
    ``part_dir`` (an empty folder, see :func:`framing.files.scratch_dir`), writes each
    batch's lines to a file there (:attr:`JsonBatch.part`) instead of sending them back;
    :meth:`JsonBatch.write_to` joins the parts in order."""
    from framing.runtime.parallel import map_with_model

    if n_jobs > 1:
        batches = raw_batches(paths, batch_size, stdin, on_file, by_reference=True)
        folder = None if part_dir is None else Path(part_dir)
        payloads = (
            (batch, True, meta, None if folder is None else str(folder / f"{k:06d}.jsonl"))
            for k, batch in enumerate(batches)
        )
        yield from map_with_model(
            model, _json_batch, payloads, n_jobs=n_jobs, on_crash=_crashed_batch
        )
        return
    labeler = Labeler(model)
    for batch in raw_batches(paths, batch_size, stdin, on_file):
        yield _json_batch(model, labeler, (batch, True, meta, None))


def _json_batch(
    model: Model,
    labeler: Labeler,
    payload: tuple[
        list[RawInput | FileSlice | InputFailure], bool, Mapping[str, Any] | None, str | None
    ],
) -> JsonBatch:
    out = JsonBatch()
    lines = []
    for item in _json_inputs(model, labeler, payload[:3]):
        if isinstance(item, InputFailure):
            out.failures.append(item)
        else:
            lines.append(item[0])
            out.sentences += item[1]
    out.articles = len(lines)
    part = payload[3]
    if part is None:
        out.data = b"".join(lines)
    else:
        # Not created if missing: the folder is gone when the run was stopped.
        with open(part, "wb") as fh:
            fh.writelines(lines)
        out.part = part
    return out


def _crashed_batch(payload: tuple[Any, ...], reason: str) -> JsonBatch:
    return JsonBatch(failures=crashed_raw(payload, reason))


def _json_inputs(
    model: Model,
    labeler: Labeler,
    payload: tuple[list[RawInput | FileSlice | InputFailure], bool, Mapping[str, Any] | None],
) -> list[tuple[Any, int] | InputFailure]:
    """One batch of inputs as JSON lines (with their metadata), failures in their place."""
    from framing.runtime.tagging import merge_meta

    raw, as_bytes, meta = payload
    batch = list(raw_items(raw))
    units = [u for u in batch if not isinstance(u, InputFailure)]
    lines = _tag_batch_json(labeler, model, [u[:3] for u in units], as_bytes)
    if meta or any(u[4] is not None for u in units):
        lines = [
            (_with_meta(line, merge_meta(meta, u[4])), n)
            for (line, n), u in zip(lines, units, strict=True)
        ]
    results = iter(lines)
    return [item if isinstance(item, InputFailure) else next(results) for item in batch]

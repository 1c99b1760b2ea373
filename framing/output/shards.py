"""Sharded JSONL output: a large tagging run as shards that finish, and resume, one by one.

The input files are grouped, in order, into shards of about ``shard_mb`` megabytes of
input; shard ``k`` is tagged into ``part-0000k.jsonl`` in the output folder, written to
a temporary file and renamed when complete, so a shard file exists only when it is
whole.  ``framing-shards.json`` in the folder records the plan (which inputs make each
shard, and the model), so that an interrupted run continues with ``resume=True``:
finished shards are skipped and only the missing ones are tagged.  The shards joined
in order hold exactly the lines that tagging all inputs in one process gives.

Shards are independent tasks: :func:`tag_to_folder` runs them in worker processes of
this machine, :func:`framing.engines.dask.tag_files` on a Dask cluster.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from framing.errors import UsageError
from framing.files import atomic_write, write_bytes

if TYPE_CHECKING:
    from framing.runtime.model import Model

__all__ = [
    "MANIFEST",
    "Shard",
    "ShardResult",
    "FolderRun",
    "plan_shards",
    "prepare_folder",
    "tag_shard",
    "tag_to_folder",
]

#: The plan of a sharded run, kept in its output folder.
MANIFEST = "framing-shards.json"
MANIFEST_VERSION = 1
#: Input megabytes per shard: a few seconds to a minute of tagging on one core.
DEFAULT_SHARD_MB = 16.0


@dataclass(frozen=True)
class Shard:
    """One output file and the inputs it is made of (with the ``doc_id`` of ``.txt`` files).

    ``ranges``, when given, has one entry per input: None for the whole file, or
    ``(start, end, first line)``, the bytes of a JSONL file this shard tags (a file
    larger than a shard is cut at line ends into several shards).
    """

    name: str
    inputs: tuple[str, ...]
    doc_ids: tuple[str, ...]
    ranges: tuple[tuple[int, int, int] | None, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "name": self.name,
            "inputs": list(self.inputs),
            "doc_ids": list(self.doc_ids),
        }
        if self.ranges:
            doc["ranges"] = [None if r is None else list(r) for r in self.ranges]
        return doc

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Shard:
        ranges = data.get("ranges") or ()
        return cls(
            data["name"],
            tuple(data["inputs"]),
            tuple(data["doc_ids"]),
            tuple(None if r is None else (int(r[0]), int(r[1]), int(r[2])) for r in ranges),
        )

    def slices(self) -> list[Any]:
        """The shard's inputs as :class:`framing.runtime.raw_inputs.FileSlice` objects."""
        from framing.runtime.raw_inputs import FileSlice

        ranges = self.ranges or (None,) * len(self.inputs)
        return [
            FileSlice(path, doc_id, 1, 0, None, path.lower().endswith(".jsonl"))
            if r is None
            else FileSlice(path, doc_id, r[2], r[0], r[1], True)
            for path, doc_id, r in zip(self.inputs, self.doc_ids, ranges, strict=True)
        ]


@dataclass
class ShardResult:
    """What tagging one shard gave: counts, and the inputs that failed (``file:line: why``)."""

    name: str
    articles: int = 0
    sentences: int = 0
    failures: list[str] = field(default_factory=list)
    skipped: bool = False


@dataclass
class FolderRun:
    """A sharded run: every shard's result, in order."""

    folder: Path
    shards: list[ShardResult]

    @property
    def articles(self) -> int:
        return sum(s.articles for s in self.shards)

    @property
    def sentences(self) -> int:
        return sum(s.sentences for s in self.shards)

    @property
    def failures(self) -> list[str]:
        return [f for s in self.shards for f in s.failures]

    @property
    def skipped(self) -> int:
        return sum(1 for s in self.shards if s.skipped)


def plan_shards(paths: Sequence[str | Path], *, shard_mb: float = DEFAULT_SHARD_MB) -> list[Shard]:
    """Group the input files of ``paths`` (as ``framing tag`` finds them) into shards.

    Raises
    ------
    InputNotFoundError
        When a path does not exist.
    UsageError
        When an input is stdin (``-``), which cannot be split or read twice.
    """
    from framing.runtime.inputs import collect_inputs
    from framing.runtime.inputs import doc_ids as input_doc_ids
    from framing.runtime.raw_inputs import line_ranges

    if shard_mb <= 0:
        raise UsageError(f"the shard size must be above 0 MB, got {shard_mb}")
    files = collect_inputs(paths)
    if any(str(f) == "-" for f in files):
        raise UsageError("sharded output reads files, not stdin: give files or folders")
    ids = input_doc_ids(files)
    budget = shard_mb * 1024 * 1024
    shards: list[Shard] = []
    group: list[tuple[Path, str]] = []
    size = 0

    def close() -> None:
        shards.append(
            Shard(
                f"part-{len(shards):05d}.jsonl",
                tuple(str(f) for f, _ in group),
                tuple(d for _, d in group),
            )
        )

    for file, doc_id in zip(files, ids, strict=True):
        file_size = file.stat().st_size
        if file.suffix.lower() == ".jsonl" and file_size > budget:
            # A large JSONL file is cut at line ends: its parts are tagged in parallel.
            if group:
                close()
                group, size = [], 0
            for piece in line_ranges(file, int(budget)):
                name = f"part-{len(shards):05d}.jsonl"
                shards.append(Shard(name, (str(file),), (doc_id,), (piece,)))
            continue
        group.append((file, doc_id))
        size += file_size
        if size >= budget:
            close()
            group, size = [], 0
    if group:
        close()
    return shards


def _model_key(model: Model) -> dict[str, Any]:
    """What identifies a model for resuming: name, version, training time and data."""
    meta = model.meta
    return {
        "name": model.name,
        "version": meta.version,
        "trained_at": meta.trained_at,
        "data_hash": meta.data.get("hash"),
    }


def prepare_folder(
    folder: str | Path,
    paths: Sequence[str | Path],
    model: Model,
    *,
    resume: bool = False,
    shard_mb: float = DEFAULT_SHARD_MB,
) -> list[Shard]:
    """Plan a sharded run into ``folder`` (or read the plan of the run to resume there).

    Raises
    ------
    UsageError
        When ``folder`` holds another run and ``resume`` is not set, when the run to
        resume used another model or other inputs, or when ``folder`` is inside an
        input folder (its shards would be read as inputs).
    """
    out = Path(folder)
    for raw in paths:
        source = Path(raw)
        if source.is_dir() and out.resolve().is_relative_to(source.resolve()):
            raise UsageError(
                f"output folder {out} is inside input folder {source}: its shards would be "
                "read as inputs; choose a folder outside the inputs"
            )
    manifest = out / MANIFEST
    shards = plan_shards(paths, shard_mb=shard_mb)
    key = _model_key(model)
    if manifest.is_file():
        if not resume:
            raise UsageError(
                f"{out} already holds a tagging run ({MANIFEST}); add --resume to finish "
                "it, or choose an empty folder"
            )
        try:
            saved = json.loads(manifest.read_text(encoding="utf-8"))
            planned = [Shard.from_dict(s) for s in saved["shards"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise UsageError(f"{manifest}: not a readable shard plan ({exc}); remove it") from None
        if saved.get("model") != key:
            raise UsageError(
                f"{out} was tagged with model {saved.get('model')}, not {key}: resuming "
                "would mix two models' output; choose another folder"
            )
        if _files(planned) != _files(shards):
            raise UsageError(
                f"the inputs differ from those of the run in {out} (files were added, "
                "removed or renamed); choose another folder to tag them"
            )
        return planned
    if out.is_dir() and any(out.glob("part-*.jsonl")):
        raise UsageError(f"{out} already holds shards but no {MANIFEST}; choose an empty folder")
    out.mkdir(parents=True, exist_ok=True)
    doc = {
        "version": MANIFEST_VERSION,
        "model": key,
        "shards": [s.to_dict() for s in shards],
    }
    write_bytes(manifest, (json.dumps(doc, ensure_ascii=False, indent=1) + "\n").encode())
    return shards


def _files(shards: Sequence[Shard]) -> list[str]:
    """The input files of a plan in order, each once (a file cut into several shards
    included), to compare two plans whatever their shard size."""
    files: list[str] = []
    for shard in shards:
        for path in shard.inputs:
            if not files or files[-1] != path:
                files.append(path)
    return files


def tag_shard(shard: Shard, model: Model, folder: str | Path) -> ShardResult:
    """Tag one shard's inputs into ``folder/shard.name``, atomically; skip it when there.

    The JSONL lines are those of :func:`framing.output.json.tag_json_lines`; inputs
    that fail are counted in the result, not written.
    """
    from framing.output.json import tag_json_lines
    from framing.runtime.inputs import InputFailure

    target = Path(folder) / shard.name
    result = ShardResult(shard.name)
    if target.is_file():
        result.skipped = True
        return result
    with atomic_write(target, "wb") as out:
        for item in tag_json_lines([], model, as_bytes=True, slices=shard.slices()):
            if isinstance(item, InputFailure):
                result.failures.append(str(item))
                continue
            line, count = item
            out.write(line)
            result.articles += 1
            result.sentences += count
    return result


_WORKER_MODEL: Any = None


def _init(model: Model | None) -> None:
    global _WORKER_MODEL
    if model is not None:
        _WORKER_MODEL = model


def _run(task: tuple[Shard, str]) -> ShardResult:
    shard, folder = task
    return tag_shard(shard, _WORKER_MODEL, folder)


def _crashed(task: tuple[Shard, str], reason: str) -> ShardResult:
    shard, _ = task
    return ShardResult(shard.name, failures=[f"{shard.name} ({', '.join(shard.inputs)}): {reason}"])


def tag_to_folder(
    paths: Sequence[str | Path],
    model: Model,
    folder: str | Path,
    *,
    n_jobs: int = 1,
    resume: bool = False,
    shard_mb: float = DEFAULT_SHARD_MB,
    on_shard: Callable[[ShardResult, int, int], None] | None = None,
) -> FolderRun:
    """Tag files into sharded JSONL in ``folder``, ``n_jobs`` shards at a time.

    Parameters
    ----------
    paths
        Files and folders, as for ``framing tag``.
    model
        A loaded model (inherited by forked workers; pickled to each otherwise).
    folder
        The output folder: ``part-NNNNN.jsonl`` shards and ``framing-shards.json``.
    n_jobs
        Worker processes (0 or -1: every available CPU).
    resume
        Continue the run already in ``folder``: only missing shards are tagged.
    shard_mb
        Input megabytes per shard.
    on_shard
        Called with each shard's result, its number (from 1) and the number of shards.

    Raises
    ------
    UsageError, InputNotFoundError
        See :func:`prepare_folder`.
    """
    from framing.runtime.parallel import imap_ordered, inherits_parent, resolve_jobs

    global _WORKER_MODEL
    shards = prepare_folder(folder, paths, model, resume=resume, shard_mb=shard_mb)
    results: list[ShardResult] = []
    inherit = inherits_parent()
    if inherit:
        _WORKER_MODEL = model
    try:
        tasks: Iterator[tuple[Shard, str]] = ((s, str(folder)) for s in shards)
        for k, result in enumerate(
            imap_ordered(
                _run,
                tasks,
                n_jobs=resolve_jobs(n_jobs),
                initializer=_init,
                initargs=(None,) if inherit else (model,),
                on_crash=_crashed,
            ),
            start=1,
        ):
            results.append(result)
            if on_shard is not None:
                on_shard(result, k, len(shards))
    finally:
        _WORKER_MODEL = None
    return FolderRun(Path(folder), results)

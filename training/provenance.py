"""Where a model comes from: the hash of its data, paths as saved, the code's commit.

These go into a model's ``meta.json`` and ``config.toml``, so a model says how it was made.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from framing.errors import InputNotFoundError

__all__ = ["code_commit", "data_hash", "relative_path"]


def data_hash(paths: Sequence[str | Path]) -> str:
    """SHA-256 over the sorted relative names and the bytes of the training data's JSONL files.

    A folder contributes every ``*.jsonl`` below it, named relative to the folder;
    a file is named by its file name.  So ``data_hash(["data/annotations"])`` equals
    the hash of its ``train.jsonl``, ``dev.jsonl`` and ``test.jsonl`` given one by one,
    and the hash does not depend on where the checkout lives.

    Raises
    ------
    InputNotFoundError
        When a path does not exist or a folder holds no JSONL file.
    """
    entries: list[tuple[str, Path]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files = sorted(f for f in path.rglob("*.jsonl") if f.is_file())
            if not files:
                raise InputNotFoundError(f"{path}: folder holds no .jsonl file")
            entries.extend((f.relative_to(path).as_posix(), f) for f in files)
        elif path.is_file():
            entries.append((path.name, path))
        else:
            raise InputNotFoundError(f"{path}: no such file or folder")
    digest = hashlib.sha256()
    for name, file in sorted(entries, key=lambda e: (e[0], str(e[1]))):
        content = file.read_bytes()
        digest.update(name.encode("utf-8") + b"\0")
        digest.update(str(len(content)).encode("ascii") + b"\0")
        digest.update(content)
    return digest.hexdigest()


def relative_path(path: str | Path) -> str:
    """A path as written in saved files: relative to the working directory when inside it."""
    p = Path(path)
    if p.is_absolute():
        try:
            return p.relative_to(Path.cwd()).as_posix()
        except ValueError:
            return p.as_posix()
    return p.as_posix()


def code_commit() -> str | None:
    """The commit of the framing checkout this code runs from, read from ``.git`` (no git
    needed); None for an installed wheel.  Not the working directory's repository: a model
    trained from a user's project folder records the code that trained it."""
    here = Path(__file__).resolve().parent
    for folder in (here, *here.parents):
        git = folder / ".git"
        if git.is_file():
            text = git.read_text(encoding="utf-8", errors="replace").strip()
            if not text.startswith("gitdir:"):
                return None
            git = (folder / text.split(":", 1)[1].strip()).resolve()
        if not git.is_dir():
            continue
        try:
            head = (git / "HEAD").read_text(encoding="utf-8").strip()
            if not head.startswith("ref:"):
                return head or None
            ref = head.split(":", 1)[1].strip()
            for base in (git, _common_dir(git)):
                if (base / ref).is_file():
                    return (base / ref).read_text(encoding="utf-8").strip() or None
                packed = base / "packed-refs"
                if packed.is_file():
                    for line in packed.read_text(encoding="utf-8").splitlines():
                        parts = line.split()
                        if len(parts) == 2 and parts[1] == ref:
                            return parts[0]
        except OSError:
            return None
        return None
    return None


def _common_dir(git: Path) -> Path:
    common = git / "commondir"
    if common.is_file():
        return (git / common.read_text(encoding="utf-8").strip()).resolve()
    return git

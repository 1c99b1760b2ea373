"""Build hostile model folders for the tests (never committed as binaries).

Each folder is a copy of the bundled default model with one file replaced by a known
attack on model loading.  A payload that runs creates the file ``marker`` next to
the model folders, so a test can check that nothing ran.

Run it by hand to inspect the fixtures::

    python tests/malicious_models.py /tmp/hostile
"""

from __future__ import annotations

import builtins
import functools
import io
import json
import operator
import shutil
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from framing.runtime.model import bundled_models_root


def _copy_default(dest: Path, *, compiled: bool) -> Path:
    shutil.copytree(bundled_models_root() / "default", dest)
    if not compiled:  # a folder of scikit-learn pipelines only (model.skops written after)
        (dest / "compiled.npz").unlink()
        (dest / "compiled.json").unlink()
        meta = json.loads((dest / "meta.json").read_text(encoding="utf-8"))
        meta["scorers"] = ["skops-pipelines.v1"]
        (dest / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    return dest


def _payload(marker: Path) -> str:
    return f"open({str(marker)!r}, 'w').write('ran')"


def _skops(dest: Path, pipelines: object) -> None:
    import skops.io as sio

    sio.dump(pipelines, dest / "model.skops")


def exec_chain(dest: Path, marker: Path) -> None:
    """The issue's chain: numpy builds the payload string, ``builtins.exec`` runs it."""
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer

    payload = _payload(marker)
    chain = Pipeline(
        [
            (
                "fill",
                FunctionTransformer(np.full_like, kw_args={"fill_value": payload, "dtype": object}),
            ),
            ("pick", FunctionTransformer(np.take, kw_args={"indices": 0})),
            ("run", FunctionTransformer(builtins.exec)),
        ]
    )
    _skops(_copy_default(dest, compiled=False), {"frames": chain})


def attrgetter_gadget(dest: Path, marker: Path) -> None:
    from sklearn.preprocessing import FunctionTransformer

    gadget = FunctionTransformer(operator.attrgetter("__class__.__init__.__globals__"))
    _skops(_copy_default(dest, compiled=False), {"frames": gadget})


def methodcaller_gadget(dest: Path, marker: Path) -> None:
    from sklearn.preprocessing import FunctionTransformer

    gadget = FunctionTransformer(operator.methodcaller("__reduce__"))
    _skops(_copy_default(dest, compiled=False), {"frames": gadget})


def partial_exec(dest: Path, marker: Path) -> None:
    from sklearn.preprocessing import FunctionTransformer

    gadget = FunctionTransformer(functools.partial(builtins.exec, _payload(marker)))
    _skops(_copy_default(dest, compiled=False), {"frames": gadget})


def skops_traversal(dest: Path, marker: Path) -> None:
    """A model.skops holding a member that names a path outside the archive."""
    folder = _copy_default(dest, compiled=False)
    with zipfile.ZipFile(folder / "model.skops", "a") as archive:
        archive.writestr("../../escape.npy", b"not an array")


def npz_pickle(dest: Path, marker: Path) -> None:
    """compiled.npz with an object array: numpy would unpickle it with allow_pickle."""
    folder = _copy_default(dest, compiled=True)
    with np.load(folder / "compiled.npz") as npz:
        arrays = {name: npz[name] for name in npz.files}
    first = sorted(arrays)[0]
    arrays[first] = np.array([_Runs(marker)], dtype=object)
    np.savez(folder / "compiled.npz", **arrays)  # type: ignore[arg-type]


def npz_traversal(dest: Path, marker: Path) -> None:
    """compiled.npz with a member named ``../../escape.npy``."""
    folder = _copy_default(dest, compiled=True)
    buffer = io.BytesIO()
    np.save(buffer, np.zeros(3))
    with zipfile.ZipFile(folder / "compiled.npz", "a") as archive:
        archive.writestr("../../escape.npy", buffer.getvalue())


class _Runs:
    """Unpickling this object writes the marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Callable[..., object], tuple[str]]:
        return (builtins.exec, (_payload(self.marker),))


BUILDERS: dict[str, Callable[[Path, Path], None]] = {
    "exec-chain": exec_chain,
    "attrgetter": attrgetter_gadget,
    "methodcaller": methodcaller_gadget,
    "partial-exec": partial_exec,
    "skops-path-traversal": skops_traversal,
    "npz-pickle": npz_pickle,
    "npz-path-traversal": npz_traversal,
}


def build_all(root: Path) -> tuple[dict[str, Path], Path]:
    """Every hostile model folder under ``root``, and the marker a payload would create."""
    root.mkdir(parents=True, exist_ok=True)
    marker = root / "marker"
    folders = {}
    for name, build in BUILDERS.items():
        build(root / name, marker)
        folders[name] = root / name
    return folders, marker


if __name__ == "__main__":
    built, _ = build_all(Path(sys.argv[1]))
    for name, folder in built.items():
        print(f"{name}: {folder}")

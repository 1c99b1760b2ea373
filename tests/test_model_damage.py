"""Every damaged file of a model folder is a ModelError naming the file and the fix."""

from __future__ import annotations

import json
import random
import shutil
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from framing.cli import app
from framing.errors import ModelError
from framing.runtime.model import bundled_models_root, load_model

#: Files read when a model loads, and the backend that reads the scorer files.
READ = {
    "meta.json": True,
    "codebook.toml": True,
    "compiled.json": True,
    "compiled.npz": True,
    "ood.json": True,
    "ood.npz": True,
    "context.json": True,
    "model.skops": False,  # read by the scikit-learn backend (use_compiled=False)
}
#: Documentation files of the folder: loading never reads them.
NOT_READ = ("config.toml", "metrics.json", "README.md")


def _truncate(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _empty(data: bytes) -> bytes:
    return b""


def _random(data: bytes) -> bytes:
    return random.Random(7).randbytes(max(64, min(len(data), 4096)))


def _wrong_schema(data: bytes, name: str) -> bytes:
    """Well-formed for its format, wrong in content."""
    if name.endswith(".json"):
        doc = json.loads(data)
        if name == "meta.json":
            doc["labels"] = {"frames": "security"}
        elif name == "ood.json":
            doc["unigrams"] = 3
        elif name == "context.json":
            doc["dimensions"]["frames"]["coef"] = 3
        else:
            doc["heads"][0]["kind"] = "exec"
            doc["vectorizers"][0]["analyzer"] = 3
        return json.dumps(doc).encode()
    if name == "codebook.toml":
        return b'name = "x"\nversion = "1"\n[[dimensions]]\nid = 3\n'
    # Archives: a valid zip whose member is something else.
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("schema.json" if name == "model.skops" else "x.npy", b"{}")
    return buffer.getvalue()


DAMAGE: dict[str, Callable[[bytes], bytes]] = {
    "truncated": _truncate,
    "empty": _empty,
    "random-bytes": _random,
}


def _damaged(tmp_path: Path, name: str, how: str, source: Path | None = None) -> Path:
    """A copy of ``source`` (default: the bundled model) with file ``name`` damaged."""
    folder = shutil.copytree(source or bundled_models_root() / "default", tmp_path / "model")
    data = (folder / name).read_bytes()
    new = _wrong_schema(data, name) if how == "wrong-schema" else DAMAGE[how](data)
    (folder / name).write_bytes(new)
    return folder


@pytest.mark.parametrize("how", [*DAMAGE, "wrong-schema"])
@pytest.mark.parametrize("name", sorted(READ))
def test_model_damage_is_a_model_error(
    tmp_path: Path, name: str, how: str, tag_model_path: Path
) -> None:
    # The bundled model is saved without model.skops: the small test model has one.
    folder = _damaged(tmp_path, name, how, tag_model_path if name == "model.skops" else None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ModelError) as info:
            load_model(folder, use_compiled=READ[name])
    message = str(info.value)
    assert name in message
    assert str(folder) in message
    assert any(fix in message for fix in ("copy", "retrain", "restore", "delete")), message
    assert "allow_pickle" not in message and "use_compiled" not in message


@pytest.mark.parametrize("name", ["compiled.npz", "meta.json", "codebook.toml"])
def test_model_damage_cli_one_line(tmp_path: Path, name: str) -> None:
    folder = _damaged(tmp_path, name, "truncated")
    article = tmp_path / "a.txt"
    article.write_text("The West is a threat.\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["tag", str(article), "-m", str(folder)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert f"{folder / name}" in result.output


@pytest.mark.parametrize("name", NOT_READ)
def test_model_damage_documentation_files_do_not_stop_tagging(tmp_path: Path, name: str) -> None:
    folder = _damaged(tmp_path, name, "random-bytes")
    model = load_model(folder)
    assert model.tag("The West is a threat.").sentences


def test_model_damage_edited_codebook_is_refused(tmp_path: Path) -> None:
    folder = shutil.copytree(bundled_models_root() / "default", tmp_path / "model")
    book = folder / "codebook.toml"
    book.write_text(
        book.read_text(encoding="utf-8").replace("seeking to dominate", "seeking to rule"), "utf-8"
    )
    with pytest.raises(ModelError, match="codebook.toml: differs from the codebook"):
        load_model(folder)
    assert load_model(folder, verify_codebook=False).codebook.hash != load_model().codebook.hash
    article = tmp_path / "a.txt"
    article.write_text("The West is a threat.\n", encoding="utf-8")
    refused = CliRunner().invoke(app, ["tag", str(article), "-m", str(folder)])
    assert refused.exit_code == 1 and "--allow-edited-codebook" in refused.output
    accepted = CliRunner().invoke(
        app, ["tag", str(article), "-m", str(folder), "--allow-edited-codebook"]
    )
    assert accepted.exit_code == 0, accepted.output

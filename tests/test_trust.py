"""Model trust: exact type names, hostile model folders refused, nothing runs."""

from __future__ import annotations

import importlib
import inspect
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from framing.cli import app
from framing.errors import ModelError, UntrustedModelError
from framing.runtime.model import load_model
from framing.runtime.skops_pipelines import load_pipelines
from framing.runtime.trust import ALLOWED_TYPES, check_skops_file, skops_types
from tests.malicious_models import BUILDERS, build_all

TEXTS = [
    "The West is a threat to our nation.",
    "Peace talks resume in Geneva.",
    "The economy grows fast this year.",
    "War in the east goes on.",
    "A threat of war hangs over the talks.",
    "Talks on the economy stall.",
] * 2


def _shapes() -> list[tuple[bool, int, np.ndarray]]:
    n = len(TEXTS)
    multi = np.array([[i % 2, (i // 2) % 2, 0] for i in range(n)])  # last label never seen
    return [
        (True, 3, multi),
        (True, 1, multi[:, :1]),
        (False, 3, np.array([i % 3 for i in range(n)])),
    ]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Path], Path]:
    return build_all(tmp_path_factory.mktemp("hostile"))


def test_trust_allow_list_covers_every_shipped_config(tmp_path: Path) -> None:
    import skops.io as sio
    from framing.training.config import CONFIGS_DIR, load_config
    from framing.training.pipelines import build_pipeline

    configs = sorted(CONFIGS_DIR.glob("*.toml"))
    assert configs
    for path in configs:
        config = load_config(path)
        params = dict(config.pipeline.params)
        for key, values in config.search.items():
            params[key] = values[0]
        for multi_label, n_labels, y in _shapes():
            pipe = build_pipeline(
                config.pipeline.name, params, multi_label=multi_label, n_labels=n_labels, seed=1
            )
            with pytest.warns(UserWarning) if multi_label and n_labels == 3 else _no_check():
                pipe.fit(TEXTS, y)
            folder = tmp_path / f"{path.stem}-{multi_label}-{n_labels}"
            folder.mkdir()
            sio.dump({"frames": pipe}, folder / "model.skops")
            found = set(skops_types(folder / "model.skops"))
            assert found <= ALLOWED_TYPES, f"{path.name}: {sorted(found - ALLOWED_TYPES)}"
            loaded = load_pipelines(folder)
            np.testing.assert_allclose(
                loaded["frames"].predict_proba(TEXTS), pipe.predict_proba(TEXTS)
            )


class _no_check:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *args: object) -> None:
        return None


def test_trust_allow_list_names_no_callable() -> None:
    for name in ALLOWED_TYPES:
        module, _, attr = name.rpartition(".")
        obj = (
            type(None)
            if name == "builtins.NoneType"
            else getattr(importlib.import_module(module), attr)
        )
        assert inspect.isclass(obj), name
        assert not name.startswith(("operator.", "functools.")), name


def test_trust_trained_model_holds_only_allowed_types(tag_model_path: Path) -> None:
    """A model of the default pipeline's structure (the bundled one is saved without its
    model.skops) names only allowed types."""
    assert set(skops_types(tag_model_path / "model.skops")) <= ALLOWED_TYPES


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_trust_refuses_hostile_model(name: str, hostile: tuple[dict[str, Path], Path]) -> None:
    folders, marker = hostile
    with pytest.raises(ModelError, match=r"model\.skops|compiled\.npz") as info:
        load_model(folders[name])
    assert str(folders[name]) in str(info.value)
    assert "allow_pickle" not in str(info.value)
    if name.startswith(("exec", "attr", "method", "partial")):
        assert isinstance(info.value, UntrustedModelError)
    assert not marker.exists(), "a payload ran"


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_trust_cli_refuses_hostile_model(
    name: str, hostile: tuple[dict[str, Path], Path], tmp_path: Path
) -> None:
    folders, marker = hostile
    article = tmp_path / "a.txt"
    article.write_text("The West is a threat.\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["tag", str(article), "--model", str(folders[name])])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert str(folders[name]) in result.output
    assert not marker.exists()


def test_trust_exec_chain_is_a_real_gadget(hostile: tuple[dict[str, Path], Path]) -> None:
    # The fixture must be dangerous for the refusal tests to mean anything.
    import skops.io as sio

    folders, marker = hostile
    file = folders["exec-chain"] / "model.skops"
    pipes = sio.load(file, trusted=sio.get_untrusted_types(file=file))
    pipes["frames"].transform(np.array(["x"], dtype=object))
    assert marker.exists()
    marker.unlink()


def test_trust_untrusted_message_lists_types_sorted(
    hostile: tuple[dict[str, Path], Path],
) -> None:
    folders, _ = hostile
    with pytest.raises(UntrustedModelError) as info:
        check_skops_file(folders["partial-exec"] / "model.skops")
    message = str(info.value)
    assert "['builtins.exec', 'functools.partial', " in message
    assert "--trust TYPE" in message


def test_trust_names_single_types(hostile: tuple[dict[str, Path], Path]) -> None:
    folders, _ = hostile
    file = folders["attrgetter"] / "model.skops"
    transformer = "sklearn.preprocessing._function_transformer.FunctionTransformer"
    with pytest.raises(UntrustedModelError, match="operator.attrgetter") as info:
        check_skops_file(file, trusted=[transformer])
    assert transformer not in str(info.value)
    # A prefix trusts nothing: only the exact names do.
    with pytest.raises(UntrustedModelError):
        check_skops_file(file, trusted=["operator.", "sklearn."])
    check_skops_file(file, trusted=[transformer, "operator.attrgetter"])


def test_trust_fallback_from_compiled_is_announced(tmp_path: Path, tag_model_path: Path) -> None:
    from framing.runtime.model import ModelFallbackWarning

    folder = shutil.copytree(tag_model_path, tmp_path / "m")
    (folder / "compiled.npz").unlink()
    (folder / "compiled.json").unlink()
    with pytest.warns(ModelFallbackWarning, match="scoring with model.skops"):
        model = load_model(folder)
    assert type(model.scorer).__name__ == "PipelineScorer"
    article = tmp_path / "a.txt"
    article.write_text("The West is a threat.\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["tag", str(article), "--model", str(folder)])
    assert result.exit_code == 0, result.output
    assert "warning:" in result.output and "model.skops" in result.output

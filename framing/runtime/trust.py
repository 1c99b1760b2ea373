"""Which types a ``model.skops`` file may hold: exact names, never module prefixes.

A skops file is a tree of nodes, each naming a type or a function by module and name,
which skops imports and calls while loading.  A type is therefore a code path: a
``FunctionTransformer`` over ``builtins.exec``, an ``operator.attrgetter`` or a
``functools.partial`` would run an attacker's code while a model is loaded or used.

:data:`ALLOWED_TYPES` lists, by exact name, every type the pipelines that
``framing.training.pipelines`` builds contain; a test builds and saves every shipped
training config and checks that list.  Nothing else loads unless the caller names it
(``trusted=[...]``, CLI ``--trust TYPE``): no callable of ``builtins``, ``numpy``,
``operator`` or ``functools`` is trusted by default.  skops' own
``get_untrusted_types`` is consulted too, so a file passes only when both agree.

See ``docs/threat-model.md``.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from framing.errors import ModelError, UntrustedModelError

__all__ = ["ALLOWED_TYPES", "check_skops_file", "skops_types"]

#: Exact ``module.name`` of every type the shipped pipelines hold (data and estimators;
#: no function, method or partial).  Kept in step with ``training/pipelines.py`` by
#: ``tests/test_trust.py``, which saves a pipeline of every shipped config.
ALLOWED_TYPES: frozenset[str] = frozenset(
    {
        # containers and JSON scalars skops writes for estimator attributes
        "builtins.dict",
        "builtins.list",
        "builtins.tuple",
        "builtins.str",
        "builtins.int",
        "builtins.float",
        "builtins.bool",
        "builtins.NoneType",
        # arrays and the dtypes they name
        "numpy.ndarray",
        "numpy.float64",
        "numpy.int64",
        "numpy.int32",
        # the estimators of tfidf-logreg.v1
        "sklearn.pipeline.Pipeline",
        "sklearn.pipeline.FeatureUnion",
        "sklearn.feature_extraction.text.TfidfVectorizer",
        "sklearn.feature_extraction.text.TfidfTransformer",
        "sklearn.linear_model._logistic.LogisticRegression",
        "sklearn.multiclass.OneVsRestClassifier",
        "sklearn.multiclass._ConstantPredictor",
        "sklearn.multioutput.ClassifierChain",
        "sklearn.preprocessing._label.LabelBinarizer",
    }
)

#: skops loaders that only rebuild data or objects of a named type; the others
#: (functions, methods, partials, reduce calls, operator objects) call something.
_DATA_LOADERS = frozenset(
    {
        "DictNode",
        "ListNode",
        "TupleNode",
        "SetNode",
        "JsonNode",
        "TypeNode",
        "ObjectNode",
        "NdArrayNode",
        "DtypeNode",
        "SparseMatrixNode",
        "SliceNode",
        "BytesNode",
        "BytearrayNode",
    }
)


def _nodes(node: Any) -> Iterator[dict[str, Any]]:
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if "__class__" in item and "__module__" in item:
                yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _schema(file: Path) -> Any:
    hint = "the file is damaged or not a framing model; retrain it or copy the folder again"
    try:
        with zipfile.ZipFile(file) as archive:
            names = archive.namelist()
            for name in names:
                if name.startswith(("/", "\\")) or ".." in Path(name).parts or "\\" in name:
                    raise UntrustedModelError(
                        f"{file}: member name {name!r} points outside the archive; "
                        "refusing to load it (do not use this model)"
                    )
            if "schema.json" not in names:
                raise ModelError(f"{file}: no schema.json inside ({hint})")
            return json.loads(archive.read("schema.json"))
    except ModelError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, RuntimeError) as exc:
        raise ModelError(f"{file}: not a readable skops file ({exc}; {hint})") from None


def skops_types(file: str | Path) -> dict[str, set[str]]:
    """Every type or callable named in a skops file: ``module.name`` -> skops loaders."""
    found: dict[str, set[str]] = {}
    for node in _nodes(_schema(Path(file))):
        name = f"{node['__module__']}.{node['__class__']}"
        found.setdefault(name, set()).add(str(node.get("__loader__")))
    return found


def check_skops_file(file: str | Path, trusted: Iterable[str] = ()) -> list[str]:
    """Refuse a skops file holding a type that is neither allowed nor trusted by name.

    Returns
    -------
    list of str
        The types skops itself does not trust, to pass as ``skops.io.load(trusted=...)``
        (each checked here first).

    Raises
    ------
    UntrustedModelError
        Naming the refused types, sorted.
    ModelError
        When the file is not a readable skops file.
    """
    import skops.io as sio

    file = Path(file)
    accepted = ALLOWED_TYPES | set(trusted)
    found = skops_types(file)
    refused = {
        name
        for name, loaders in found.items()
        if name not in accepted or (loaders - _DATA_LOADERS and name not in set(trusted))
    }
    try:
        untrusted = list(sio.get_untrusted_types(file=file))
    except Exception as exc:  # skops raises plain exceptions on damaged files
        raise ModelError(
            f"{file}: not a readable skops file ({exc}); retrain the model or copy it again"
        ) from None
    refused.update(t for t in untrusted if t not in accepted)
    if refused:
        raise UntrustedModelError(
            f"{file}: untrusted types found in the file: {sorted(refused)}; "
            "a model file can run code through such types. Load it only if you trust "
            "its source, naming each type: --trust TYPE (API: trusted=[...])"
        )
    return untrusted

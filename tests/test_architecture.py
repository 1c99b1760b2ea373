"""The import rules of docs/architecture.md: which part of framing may import which.

The rules are checked on the source (every ``import`` statement, including those inside
functions: a lazy import is still a dependency), with ``training/`` read as
``framing.training`` as it installs.  import-linter does the same job for ordinary
layouts, but it finds subpackages by walking the package folder and so cannot see
``framing.training``, which lives outside ``framing/``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: part -> the parts it may import (besides itself).  Keep in step with
#: docs/architecture.md.  ``errors`` and ``files`` are the shared ground floor.
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "files": {"errors"},
    "format": {"errors", "files"},
    "runtime": {"format", "errors", "files"},
    "output": {"runtime", "format", "errors", "files"},
    "exchange": {"runtime", "format", "errors", "files"},
    "loop": {"runtime", "format", "errors", "files"},
    "engines": {"output", "runtime", "format", "errors", "files"},
    "findings": {"runtime", "format", "errors", "files"},
    "training": {"loop", "output", "runtime", "format", "errors", "files"},
    "cli": {
        "training",
        "loop",
        "findings",
        "exchange",
        "engines",
        "output",
        "runtime",
        "format",
        "errors",
        "files",
    },
    "package": {"runtime", "format", "errors"},  # framing/__init__.py: the public API
}


def _modules() -> Iterator[tuple[str, Path]]:
    for path in sorted((ROOT / "framing").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        yield ".".join(p for p in parts if p != "__init__"), path
    for path in sorted((ROOT / "training").rglob("*.py")):
        parts = path.relative_to(ROOT / "training").with_suffix("").parts
        yield ".".join(["framing", "training", *(p for p in parts if p != "__init__")]), path


def _part(module: str) -> str | None:
    """The part a framing module belongs to; None for modules outside framing."""
    pieces = module.split(".")
    if pieces[0] != "framing":
        return None
    if len(pieces) == 1:
        return "package"
    name = pieces[1]
    if name in ("__main__",):
        return "cli"
    return name


def _targets(module: str, path: Path, nodes: Iterator[ast.AST]) -> Iterator[tuple[str, int]]:
    """The modules that the import statements among ``nodes`` name, with their lines."""
    is_package = path.name == "__init__.py"
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                if not is_package:
                    base = base[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if target == "framing":
                # `from framing import x`: x is a module of the package or a public name
                for alias in node.names:
                    yield f"framing.{alias.name}", node.lineno
            else:
                yield target, node.lineno


def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _lazy_public_names() -> set[str]:
    """Names that ``framing/__init__.py`` exports (``from framing import Model``)."""
    import framing

    return set(framing.__all__)


def test_architecture_every_module_belongs_to_a_known_part() -> None:
    unknown = sorted(
        f"{module} ({path.relative_to(ROOT)})"
        for module, path in _modules()
        if _part(module) not in ALLOWED
    )
    assert not unknown, (
        "modules outside the parts of docs/architecture.md (add the part there and to "
        f"ALLOWED): {unknown}"
    )


def test_architecture_imports_follow_the_rules() -> None:
    public = _lazy_public_names()
    violations = []
    for module, path in _modules():
        source = _part(module)
        assert source is not None
        for target, line in _targets(module, path, ast.walk(_parse(path))):
            if target == "framing.__version__":
                continue  # the version string, which every part may stamp on what it writes
            if target.startswith("framing.") and target.split(".", 1)[1] in public:
                target = "framing"  # a public name of the package, e.g. framing.Model
            part = _part(target)
            if part is None or part == source or part in ALLOWED[source]:
                continue
            violations.append(f"{path.relative_to(ROOT)}:{line}: {source} imports {target}")
    assert not violations, "imports that break docs/architecture.md:\n" + "\n".join(violations)


def _top_level_graph() -> dict[str, set[str]]:
    """Module -> the framing modules it imports when it is imported (not inside functions,
    not under ``if TYPE_CHECKING``)."""
    modules = dict(_modules())
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        edges = set()
        for target, _ in _targets(module, path, iter(_parse(path).body)):
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != module:
                edges.add(target)
        graph[module] = edges
    return graph


@pytest.mark.parametrize("part", sorted(ALLOWED))
def test_architecture_no_import_cycles_between_modules(part: str) -> None:
    graph = _top_level_graph()
    cycles = []
    for start in sorted(m for m in graph if _part(m) == part):
        stack = [(start, [start])]
        seen: set[str] = set()
        while stack:
            node, trail = stack.pop()
            for nxt in sorted(graph.get(node, ())):
                if nxt == start:
                    cycles.append(" -> ".join([*trail, start]))
                elif nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, [*trail, nxt]))
    assert not cycles, "import cycles:\n" + "\n".join(sorted(set(cycles)))


#: Inside a part: module -> the modules (and their submodules) it never imports, even
#: lazily.  These keep the modules a grab-bag was split into in layers: the record types
#: know nothing of reading or validating, the line reader nothing of validation, the
#: scores and coefficients nothing of what uses them, and the exchange registry names the
#: format modules without importing them (the CLI loads one only when its command runs).
#: Keep in step with docs/architecture.md.
NEVER_IMPORTS: dict[str, set[str]] = {
    "framing.format.records": {
        "framing.format.lines",
        "framing.format.validation",
        "framing.format.jsonl",
        "framing.format.annotations",
    },
    "framing.format.lines": {
        "framing.format.validation",
        "framing.format.jsonl",
        "framing.format.annotations",
    },
    "framing.format.validation": {"framing.format.jsonl", "framing.format.annotations"},
    "framing.format.text": {"framing.format"},
    "framing.exchange.registry": {"framing.exchange.importers", "framing.exchange.exporters"},
    "framing.loop.coefficients": {"framing.loop", "framing.format"},
    "framing.training.metrics": {"framing.training"},
    "framing.training.provenance": {"framing.training"},
    "framing.training.examples": {
        "framing.training.train",
        "framing.training.cross_validation",
        "framing.training.evaluate",
    },
    "framing.training.eval_report": {
        "framing.training.evaluate",
        "framing.training.comparison",
        "framing.training.train",
    },
}


def test_architecture_split_modules_stay_in_layers() -> None:
    modules = dict(_modules())
    assert set(NEVER_IMPORTS) <= set(modules), set(NEVER_IMPORTS) - set(modules)
    violations = []
    for module, forbidden in NEVER_IMPORTS.items():
        path = modules[module]
        for target, line in _targets(module, path, ast.walk(_parse(path))):
            if target == module:
                continue
            if any(target == f or target.startswith(f"{f}.") for f in forbidden):
                violations.append(f"{path.relative_to(ROOT)}:{line}: {module} imports {target}")
    assert not violations, "layers inside a part broken:\n" + "\n".join(violations)

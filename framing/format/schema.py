"""A small JSON Schema checker for the schemas framing ships (no extra dependency).

It understands the subset our schemas use: ``type`` (one or a list), ``enum``,
``required``, ``properties``, ``additionalProperties: false``, ``items``,
``minItems``/``maxItems`` and ``minimum``/``maximum``.  Every problem is reported
with its location, ``heads[0].kind``-style.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from itertools import repeat
from typing import Any

__all__ = ["load_schema", "schema_problems"]

_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}


@cache
def load_schema(package: str, name: str) -> dict[str, Any]:
    """A JSON schema shipped as package data, e.g. ``("framing.runtime", "compiled")``."""
    text = resources.files(package).joinpath("schemas", f"{name}.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def _is(value: Any, kind: str) -> bool:
    if isinstance(value, bool) and kind in ("integer", "number"):
        return False
    return isinstance(value, _TYPES[kind])


def schema_problems(value: Any, schema: dict[str, Any], where: str = "") -> list[str]:
    """Every way ``value`` breaks ``schema``, as ``location: problem`` strings."""
    at = where or "(top level)"
    kinds = schema.get("type")
    if kinds is not None:
        kinds = [kinds] if isinstance(kinds, str) else kinds
        if not any(_is(value, k) for k in kinds):
            return [f"{at}: expected {' or '.join(kinds)}, got {type(value).__name__}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{at}: {value!r} is not one of {schema['enum']}"]
    problems: list[str] = []
    if isinstance(value, bool):
        return problems
    if isinstance(value, int | float):
        if "minimum" in schema and value < schema["minimum"]:
            problems.append(f"{at}: {value} is below {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            problems.append(f"{at}: {value} is above {schema['maximum']}")
    elif isinstance(value, dict):
        props = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in value:
                problems.append(f"{at}: missing '{key}'")
        for key, item in value.items():
            path = f"{where}.{key}" if where else str(key)
            if key in props:
                problems.extend(schema_problems(item, props[key], path))
            elif schema.get("additionalProperties") is False:
                problems.append(f"{at}: unknown key '{key}'")
    elif isinstance(value, list):
        if "minItems" in schema and len(value) < schema["minItems"]:
            problems.append(f"{at}: needs at least {schema['minItems']} item(s)")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            problems.append(f"{at}: has more than {schema['maxItems']} item(s)")
        items = schema.get("items")
        if items is not None and set(items) == {"type"} and isinstance(items["type"], str):
            # Long lists of one scalar type (vocabularies): one pass, located on failure.
            kind = items["type"]
            if kind in ("integer", "number"):  # bool is an int, but not a JSON number
                ok = all(_is(item, kind) for item in value)
            else:  # isinstance mapped in C: the vocabularies of a model, at every load
                ok = all(map(isinstance, value, repeat(_TYPES[kind])))
            if ok:
                return problems
        if items is not None:
            for i, item in enumerate(value):
                problems.extend(schema_problems(item, items, f"{where}[{i}]"))
    return problems

"""``--params key=value``: parameters given on the command line.

Values are read as YAML scalars or flow collections (``3`` is an int, ``true`` a bool,
``[1, 2]`` a list, ``'3'`` a string); keys with dots set nested values (``model.alpha=0.1``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from ductwork.exceptions import ProjectConfigError

__all__ = ["deep_merge", "is_runtime_param", "parse_runtime_params", "set_dotted"]


def is_runtime_param(text: str) -> bool:
    """Tell ``key=value`` (a runtime parameter) from a parameters file's path."""
    key, equals, _ = text.partition("=")
    return bool(equals) and bool(key.strip()) and "/" not in key


def _split(text: str) -> list[str]:
    """``a=1,b=2`` is two parameters; ``x=[1,2]`` is one (a part without ``=`` continues)."""
    parts: list[str] = []
    for piece in text.split(","):
        if parts and not is_runtime_param(piece):
            parts[-1] += "," + piece
        else:
            parts.append(piece)
    return parts


def _value(text: str) -> Any:
    if not text.strip():
        return ""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text  # not YAML: the text itself (e.g. a value with an unbalanced bracket)


def set_dotted(target: dict[str, Any], dotted: str, value: Any, origin: str) -> None:
    """Set ``target[a][b] = value`` for ``dotted == "a.b"``, creating mappings on the way."""
    *parents, last = dotted.split(".")
    node = target
    for depth, part in enumerate(parents):
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            where = ".".join(parents[: depth + 1])
            raise ProjectConfigError(
                f"{origin}: cannot set '{dotted}': '{where}' is already set to a value that is "
                "not a mapping."
            )
        node = child
    node[last] = value


def parse_runtime_params(items: Iterable[str]) -> dict[str, Any]:
    """Turn ``["a=1", "b.c=x,d=[1,2]"]`` into ``{"a": 1, "b": {"c": "x"}, "d": [1, 2]}``.

    Raises:
        ProjectConfigError: An item is not ``key=value`` or sets a key below a plain value.
    """
    params: dict[str, Any] = {}
    for item in items:
        for part in _split(item):
            key, equals, raw = part.partition("=")
            key = key.strip()
            if not equals or not key or any(not piece for piece in key.split(".")):
                raise ProjectConfigError(
                    f"--params {item!r}: each parameter must look like key=value (dotted keys "
                    "such as model.alpha=0.1 set nested values)."
                )
            set_dotted(params, key, _value(raw), f"--params {item!r}")
    return params


def deep_merge(base: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``update`` merged in, key by key at every depth (``update`` wins)."""
    merged = dict(base)
    for key, value in update.items():
        current = merged.get(key)
        if isinstance(value, Mapping) and isinstance(current, Mapping):
            merged[key] = deep_merge(current, value)
        else:
            merged[key] = value
    return merged

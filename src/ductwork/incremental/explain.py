"""The words of incremental runs: why a node whose key changed must run again.

A key is made of labelled entries (code, values, packages, inputs); comparing the entries of the
last run with today's names each one that changed, e.g. ``code of clean() changed: helper
normalise() in mypkg/utils.py``, ``params:alpha 0.1 -> 0.2``, ``input companies: file changed``,
``upstream split_data re-ran and its output changed``.
"""

from __future__ import annotations

import json
import reprlib
from collections.abc import Mapping
from typing import Any

from ductwork.pipeline import Node

__all__ = ["KEY_VERSION", "diff_reasons", "shown_value"]

# Bump when keys are computed differently: every node then misses once, never hits wrongly.
KEY_VERSION = "1"
_MAX_KEYS = 200
_SHOWN = reprlib.Repr()
_SHOWN.maxstring = 40
_SHOWN.maxother = 40
_SHOWN.maxlist = _SHOWN.maxdict = _SHOWN.maxtuple = 6


def shown_value(value: Any) -> str:
    """A short text of a value for explanations (``0.1``); a mapping is kept key by key (as
    JSON), so that a change names the keys that changed."""
    if isinstance(value, Mapping) and value:
        flat: dict[str, str] = {}
        _flatten("", value, flat)
        return json.dumps(flat)
    return _short(value)


def _short(value: Any) -> str:
    try:
        return _SHOWN.repr(value)
    except Exception:  # a value whose repr fails is still a value
        return f"<{type(value).__name__}>"


def _flatten(prefix: str, value: Mapping[Any, Any], flat: dict[str, str]) -> None:
    for key, item in value.items():
        path = f"{prefix}{key}"
        if isinstance(item, Mapping) and item and len(flat) < _MAX_KEYS:
            _flatten(path + ".", item, flat)
        elif len(flat) < _MAX_KEYS:
            flat[path] = _short(item)


def _upstream_reason(name: str, upstream: str, old: list[str] | None) -> str:
    if old is None:
        return f"input {name} now comes from {upstream}"
    return f"upstream {upstream} re-ran and its output {name} changed"


def _mapping_change(name: str, before: str, after: str) -> str | None:
    try:
        old, new = json.loads(before), json.loads(after)
    except ValueError:
        return None
    if not isinstance(old, dict) or not isinstance(new, dict):
        return None
    changes = [
        f"{key} {old.get(key, '(none)')} -> {new.get(key, '(none)')}"
        for key in dict.fromkeys([*old, *new])
        if old.get(key) != new.get(key)
    ]
    return f"{name}: {', '.join(changes)}" if changes else None


def diff_reasons(
    node: Node, before: dict[str, list[str]], after: dict[str, list[str]]
) -> list[str]:
    """Why ``node`` runs: each entry of its key that changed, appeared or disappeared."""
    function = getattr(node.func, "__qualname__", None) or node.name
    root = f"code {getattr(node.func, '__module__', '')}.{function}"
    reasons = []
    for entry_id, (label, digest, shown) in after.items():
        old = before.get(entry_id)
        if old is not None and old[1] == digest:
            continue
        reasons.append(_reason(entry_id, label, (digest, shown), old, function, root))
    for entry_id, (label, _digest, _shown) in before.items():
        if entry_id not in after:
            reasons.append(_gone(entry_id, label, function))
    return reasons


def _reason(
    entry_id: str,
    label: str,
    entry: tuple[str, str],
    old: list[str] | None,
    function: str,
    root: str,
) -> str:
    digest, shown = entry
    was = None if old is None else old[2]
    if entry_id.startswith("input "):
        return _input_reason(entry_id[len("input ") :], shown, old, digest)
    if entry_id == root:
        return f"code of {function}() changed"
    if entry_id.startswith(("code ", "class ")):
        return f"code of {function}() changed: {label}" + (" (new)" if old is None else "")
    if entry_id.startswith("package "):
        return f"{label} {shown} is now used" if old is None else f"{label} {was} -> {shown}"
    if entry_id in ("signature", "python", "version", "callable"):
        return f"{label} changed: {was} -> {shown}"
    return f"{label} changed" if old is not None else f"{label} is new"


def _input_reason(name: str, shown: str, old: list[str] | None, digest: str = "") -> str:
    if shown.startswith("from "):
        return _upstream_reason(name, shown[len("from ") :], old)
    if old is None:
        return f"new input {name}" + ("" if shown == "file" else f" = {shown}")
    if shown == "file":
        # Persisted identities are "f:<content>:<dataset options>".
        if old[1].rpartition(":")[0] == digest.rpartition(":")[0]:
            return f"input {name}: read differently (its dataset's options changed)"
        return f"input {name}: file changed"
    if old[2] == shown:
        return f"{name} changed (same text)"
    return _mapping_change(name, old[2], shown) or f"{name} {old[2]} -> {shown}"


def _gone(entry_id: str, label: str, function: str) -> str:
    if entry_id.startswith("input "):
        return f"no longer reads {entry_id[len('input ') :]}"
    if entry_id.startswith(("code ", "class ")):
        return f"code of {function}() changed: no longer uses {label}"
    return f"no longer depends on {label}"

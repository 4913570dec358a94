"""What a journal file must hold before anything reads it.

A journal is a file anyone who can write to the journal folder can place or edit, and
``--resume``, ``ductwork report`` and ``ductwork runs`` act on what it says. So every field they
read is checked here, once, and a journal that does not fit is a
:class:`~ductwork.exceptions.JournalError` naming the file and the key (``nodes[3].started``),
never a ``KeyError`` or ``TypeError`` deep in a renderer. Fields this module does not know are
left alone: newer writers may add them, and their readers check them.

The ``run_id`` must be a valid run id (no separators, no leading dot, no newline): it is shown and
put into commands. Paths never come from it: ``ductwork report`` names a report after the
journal's file, so a journal cannot steer a write outside its folder.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NoReturn

from ductwork.exceptions import JournalError

__all__ = ["RUN_ID", "check_journal", "is_run_id"]

# A run id names a file in the journal folder: no separators, no leading dot, no newline.
RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")


def _text(value: Any) -> bool:
    return isinstance(value, str)


def _optional_text(value: Any) -> bool:
    return value is None or isinstance(value, str)


# Times are seconds since the epoch: from 1970 to the year 9999, so any reader can show them.
_LAST_TIME = 253_402_300_799.0


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _time(value: Any) -> bool:
    return value is None or (_number(value) and 0 <= value <= _LAST_TIME)


def _amount(value: Any) -> bool:
    return value is None or (_number(value) and value >= 0)


def _optional_int(value: Any) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool))


def _count(value: Any) -> bool:
    return _optional_int(value) and (value is None or value >= 0)


def _optional_bool(value: Any) -> bool:
    return value is None or isinstance(value, bool)


def _texts(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _worker(value: Any) -> bool:
    return value is None or (isinstance(value, (str, int)) and not isinstance(value, bool))


def _counts(value: Any) -> bool:
    return value is None or (
        isinstance(value, dict)
        and all(isinstance(k, str) and _optional_int(n) and n is not None for k, n in value.items())
    )


def _optional_mapping(value: Any) -> bool:
    return value is None or isinstance(value, dict)


def _optional_list(value: Any) -> bool:
    return value is None or isinstance(value, list)


Check = Callable[[Any], bool]
_WHAT: dict[Check, str] = {
    _text: "a string",
    _optional_text: "a string or null",
    _time: "a time (seconds since 1970, up to the year 9999) or null",
    _amount: "a finite number, not negative, or null",
    _optional_int: "an integer or null",
    _count: "a whole number, not negative, or null",
    _optional_bool: "true, false or null",
    _optional_list: "a list or null",
    _texts: "a list of strings",
    _worker: "a string, an integer or null",
    _counts: "a mapping of status to count, or null",
    _optional_mapping: "a mapping or null",
}

_RUN_FIELDS: dict[str, Check] = {
    "pipeline": _optional_text,
    "pipeline_name": _optional_text,
    "runner": _optional_text,
    "status": _text,
    "started": _time,
    "finished": _time,
    "counts": _counts,
    "command": _optional_text,
    "resume_command": _optional_text,
    "resumed_from": _optional_text,
    "host": _optional_text,
    "pid": _optional_int,
    "options": _optional_mapping,
    "datasets": _optional_mapping,
    "phases": _optional_list,
}
_NODE_FIELDS: dict[str, Check] = {
    "name": _text,
    "status": _text,
    "reason": _optional_text,
    "started": _time,
    "finished": _time,
    "worker": _worker,
    "inputs": _texts,
    "outputs": _texts,
    "tags": _texts,
    "namespace": _optional_text,
    "attempts": _count,
    "peak_rss": _count,
    "cpu_time": _amount,
    "pid": _count,
    "load_time": _amount,
    "save_time": _amount,
}
_DATASET_FIELDS: dict[str, Check] = {
    "persisted": _optional_bool,
    "type": _optional_text,
    "size": _count,
    "rows": _count,
    "columns": _count,
    "memory": _count,
    "loads": _count,
    "load_time": _amount,
    "save_time": _amount,
}
_PHASE_FIELDS: dict[str, Check] = {"name": _text, "started": _time, "finished": _time}
_ERROR_FIELDS: dict[str, Check] = {
    "node": _optional_text,
    "type": _optional_text,
    "message": _optional_text,
    "traceback": _optional_text,
}
_NODE_DEFAULTS: dict[str, Any] = {
    "reason": None,
    "started": None,
    "finished": None,
    "worker": None,
    "error": None,
    "tags": (),
    "namespace": None,
}
_REQUIRED_RUN = ("run_id", "status", "nodes")
_REQUIRED_NODE = ("name", "status", "inputs", "outputs")


def is_run_id(run_id: Any) -> bool:
    """Tell whether ``run_id`` can name a journal file (the whole string, newline included)."""
    return isinstance(run_id, str) and RUN_ID.fullmatch(run_id) is not None


def check_journal(record: Any, path: Path) -> dict[str, Any]:
    """Return ``record`` if it is a journal every reader can use, else raise ``JournalError``.

    Optional node fields that are missing are filled in (``None``, or ``[]`` for ``tags``).
    """
    if not isinstance(record, dict):
        raise JournalError(f"{path} is not a ductwork run journal (not a JSON object).")
    for key in _REQUIRED_RUN:
        if key not in record:
            raise JournalError(f"{path} is not a ductwork run journal: it has no '{key}'.")
    run_id = record["run_id"]
    if not is_run_id(run_id):
        _bad(path, "run_id", "a run id (letters, digits, '.', '_', '-')")
    _check_fields(path, "", record, _RUN_FIELDS)
    _check_error(path, "error", record.get("error"))
    nodes = record["nodes"]
    if not isinstance(nodes, list):
        _bad(path, "nodes", "a list of nodes")
    names: set[str] = set()
    for index, node in enumerate(nodes):
        where = f"nodes[{index}]"
        if not isinstance(node, dict):
            _bad(path, where, "a mapping")
        for key in _REQUIRED_NODE:
            if key not in node:
                raise JournalError(f"{path}: {where} has no '{key}'.")
        _check_fields(path, f"{where}.", node, _NODE_FIELDS)
        for key, default in _NODE_DEFAULTS.items():  # older or terser writers may omit them
            node.setdefault(key, list(default) if isinstance(default, tuple) else default)
        _check_error(path, f"{where}.error", node.get("error"))
        if node["name"] in names:
            raise JournalError(f"{path}: {where}.name {node['name']!r} appears twice.")
        names.add(node["name"])
    _check_datasets(path, record.get("datasets"))
    _check_phases(path, record.get("phases"))
    return record


def _check_datasets(path: Path, datasets: dict[str, Any] | None) -> None:
    for name, entry in (datasets or {}).items():
        where = f"datasets[{name!r}]"
        if not isinstance(entry, dict):
            _bad(path, where, "a mapping")
        _check_fields(path, f"{where}.", entry, _DATASET_FIELDS)


def _check_phases(path: Path, phases: list[Any] | None) -> None:
    for index, phase in enumerate(phases or []):
        where = f"phases[{index}]"
        if not isinstance(phase, dict):
            _bad(path, where, "a mapping")
        if "name" not in phase:
            raise JournalError(f"{path}: {where} has no 'name'.")
        _check_fields(path, f"{where}.", phase, _PHASE_FIELDS)


def _check_fields(
    path: Path, prefix: str, record: Mapping[str, Any], checks: dict[str, Check]
) -> None:
    for key, check in checks.items():
        if key in record and not check(record[key]):
            _bad(path, f"{prefix}{key}", _WHAT[check])


def _check_error(path: Path, where: str, error: Any) -> None:
    if error is None:
        return
    if not isinstance(error, dict):
        _bad(path, where, "a mapping or null")
    _check_fields(path, f"{where}.", error, _ERROR_FIELDS)


def _bad(path: Path, key: str, expected: str) -> NoReturn:
    raise JournalError(f"{path}: '{key}' must be {expected}.")

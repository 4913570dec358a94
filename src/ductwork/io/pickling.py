"""Find out why an object cannot be pickled, down to the attribute that fails.

"cannot pickle '_thread.lock' object" says what failed but not where. Before an object is sent to
another process, :func:`find_unpicklable` pickles it and, if that fails, walks its attributes,
mapping entries, sequence items, ``functools.partial`` parts and a function's closure variables
and referenced globals, pickling each, and reports the deepest parts that fail::

    attribute 'client._lock' holds a '_thread.lock' that cannot be pickled

It checks what the process and Dask runners send to their workers (see :mod:`ductwork.io.travel`).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import cloudpickle

Dumps = Callable[[Any], bytes]

__all__ = ["Dumps", "find_unpicklable"]

_MAX_DEPTH = 6
_MAX_REASONS = 10


def _type_name(obj: Any) -> str:
    cls = type(obj)
    return (
        cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
    )


def _pickle_error(obj: Any, dumps: Dumps) -> Exception | None:
    try:
        dumps(obj)
    except Exception as err:  # pickling raises TypeError, PicklingError, AttributeError, ...
        return err
    return None


def _function_parts(func: Any) -> Iterator[tuple[str, Any]]:
    try:
        variables = inspect.getclosurevars(func)
    except (TypeError, ValueError):
        return
    for name, value in variables.nonlocals.items():
        yield f"<closure {name}>", value
    for name, value in variables.globals.items():
        yield f"<global {name}>", value


def _parts(obj: Any) -> Iterator[tuple[str, Any]]:
    """Yield ``(label, value)`` for the parts of ``obj`` that pickling visits."""
    if isinstance(obj, functools.partial):
        yield "func", obj.func
        yield from ((f"args[{i}]", arg) for i, arg in enumerate(obj.args))
        yield from ((f"keywords[{k!r}]", v) for k, v in obj.keywords.items())
    elif inspect.isfunction(obj):
        yield from _function_parts(obj)
    elif inspect.ismethod(obj):
        yield "__self__", obj.__self__
        yield "__func__", obj.__func__
    elif isinstance(obj, Mapping):
        yield from ((f"[{k!r}]", v) for k, v in list(obj.items()))
    elif isinstance(obj, (list, tuple, set, frozenset)):
        yield from ((f"[{i}]", item) for i, item in enumerate(obj))
    else:
        state = getattr(obj, "__dict__", None)
        if isinstance(state, dict):
            yield from list(state.items())
        for slot in getattr(type(obj), "__slots__", ()):
            if isinstance(slot, str) and hasattr(obj, slot):
                yield slot, getattr(obj, slot)


def _join(path: str, label: str) -> str:
    if not path or label.startswith("["):
        return f"{path}{label}"
    return f"{path}.{label}"


def _dig(obj: Any, path: str, depth: int, dumps: Dumps, ancestors: set[int]) -> list[str]:
    """Return reasons for the failing parts of ``obj`` (which is known not to pickle)."""
    if depth <= 0:
        return []
    ancestors.add(id(obj))
    reasons: list[str] = []
    try:
        for label, value in _parts(obj):
            if id(value) in ancestors:
                continue  # a cycle back to an object already being examined
            error = _pickle_error(value, dumps)
            if error is None:
                continue
            where = _join(path, label)
            deeper = _dig(value, where, depth - 1, dumps, ancestors)
            reasons.extend(
                deeper
                or [f"attribute '{where}' holds a '{_type_name(value)}' that cannot be pickled"]
            )
            if len(reasons) >= _MAX_REASONS:
                break
    finally:
        ancestors.discard(id(obj))
    return reasons


def find_unpicklable(obj: Any, dumps: Dumps = cloudpickle.dumps) -> list[str]:
    """Return why ``obj`` cannot be pickled, or ``[]`` if it can.

    Args:
        obj: Anything: a dataset, a hook plugin, a node function.
        dumps: The pickler to test with; the default is the one ductwork uses to send objects
            to worker processes (``cloudpickle.dumps``), which handles lambdas and closures.

    Returns:
        One reason per failing part, e.g. ``"attribute 'client' holds a '_thread.lock' that
        cannot be pickled"``; the error itself when no single part is to blame.
    """
    error = _pickle_error(obj, dumps)
    if error is None:
        return []
    reasons = _dig(obj, "", _MAX_DEPTH, dumps, set())
    return reasons or [f"a '{_type_name(obj)}' cannot be pickled: {type(error).__name__}: {error}"]

"""Look at a module's source, without running it, before a configuration makes us import it.

A catalog's ``type:`` and a ``PickleDataset``'s ``backend:`` name modules to import, and
importing runs the module's top-level code. A name that leads nowhere useful must be refused
*before* that: so when the module is not imported yet, its source is found (without importing
its packages either: each level is located with ``PathFinder``) and parsed, and the name is
refused when the module plainly does not bind it, or binds it to a function rather than a class.
Whatever cannot be decided from the source (names bound by imports or assignments, a module
``__getattr__``, compiled modules) is left to the import and the checks after it: naming a module
that does define a dataset class asks for it to be imported, as in any project.
"""

from __future__ import annotations

import ast
import importlib.machinery
import importlib.util
import sys
from collections.abc import Iterable

__all__ = ["unbound_names"]


def unbound_names(module_name: str, names: Iterable[str], want_class: bool) -> str | None:
    """Why ``module_name`` cannot provide ``names``, judged from its source; None if it may.

    Args:
        module_name: The dotted module to look at (not imported by this function).
        names: The attributes that must exist at its top level.
        want_class: The attributes must be classes (a ``def`` is then refused too).

    Returns:
        A sentence saying what is missing, or None when the module is already imported, its
        source cannot be found or read, or every name may be bound.
    """
    bindings = _bindings_of(module_name)
    if bindings is None or "__getattr__" in bindings:
        return None
    for name in names:
        kind = bindings.get(name)
        if kind is None:
            return f"module '{module_name}' does not define '{name}'"
        if want_class and kind == "function":
            return f"'{module_name}.{name}' is a function, not a class"
    return None


def _bindings_of(module_name: str) -> dict[str, str] | None:
    if module_name in sys.modules:
        return None
    source = _source_of(module_name)
    if source is None:
        return None
    try:
        return _top_level_bindings(ast.parse(source))
    except (SyntaxError, ValueError):
        return None  # the import will say what is wrong, and run nothing


def _source_of(module_name: str) -> str | None:
    path: list[str] | None = None
    spec = None
    parts = module_name.split(".")
    for depth in range(len(parts)):
        name = ".".join(parts[: depth + 1])
        if name in sys.modules:
            module = sys.modules[name]
            path = list(getattr(module, "__path__", []) or [])
            spec = getattr(module, "__spec__", None)
            continue
        try:
            spec = importlib.machinery.PathFinder.find_spec(name, path)
        except (ImportError, ValueError):
            return None
        if spec is None:
            return None  # perhaps a meta-path finder knows it: let the import decide
        path = list(spec.submodule_search_locations or [])
    origin = getattr(spec, "origin", None)
    if not origin or not origin.endswith(".py"):
        return None
    try:
        with open(origin, "rb") as stream:
            return importlib.util.decode_source(stream.read())
    except (OSError, UnicodeDecodeError, SyntaxError):
        return None


def _top_level_bindings(tree: ast.Module) -> dict[str, str]:
    """Names bound at a module's top level: "class", "function" or "other"."""
    found: dict[str, str] = {}
    for statement in _top_level_statements(tree.body):
        if isinstance(statement, ast.ClassDef):
            found[statement.name] = "class"
        elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found.setdefault(statement.name, "function")
        elif isinstance(statement, (ast.Import, ast.ImportFrom)):
            for alias in statement.names:
                bound = alias.asname or alias.name.split(".")[0]
                found[bound] = "other"
                if alias.name == "*":
                    found["__getattr__"] = "other"  # anything may arrive: cannot tell
        else:
            for node in ast.walk(statement):
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                    found[node.id] = "other"
                elif isinstance(node, ast.Call) and _is_globals_update(node):
                    found["__getattr__"] = "other"  # names made at run time: cannot tell
    return found


def _top_level_statements(body: list[ast.stmt]) -> Iterable[ast.stmt]:
    # Names bound under `if`/`try` at the top level are bound too (e.g. optional imports).
    for statement in body:
        if isinstance(statement, (ast.If, ast.Try, ast.With)):
            yield from _top_level_statements(statement.body)
            for handler in getattr(statement, "handlers", []):
                yield from _top_level_statements(handler.body)
            yield from _top_level_statements(getattr(statement, "orelse", []))
            yield from _top_level_statements(getattr(statement, "finalbody", []))
        else:
            yield statement


def _is_globals_update(call: ast.Call) -> bool:
    func = call.func
    return (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Call)
        and isinstance(func.value.func, ast.Name)
        and func.value.func.id in {"globals", "vars", "locals"}
    ) or (isinstance(func, ast.Name) and func.id in {"exec", "setattr"})

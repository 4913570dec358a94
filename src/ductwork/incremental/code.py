"""Fingerprints of a node's code: what its result can depend on besides its inputs.

A node's function is described by *entries*, each a labelled digest: its bytecode and constants
(not its line numbers, so comments and formatting do not count), its closure cells, default
arguments and ``functools.partial`` arguments, and every global name its code (or a nested
function's, lambda's or comprehension's) reads. A global is followed by what it is:

- a function or class of the user's project: recursively, by its own entries (a class by its
  methods, properties and attributes), so a change in a helper two modules away is seen;
- a module of the project: the attributes the code reads from it, followed the same way;
- anything from an installed distribution: that distribution's name and version;
- the standard library and builtins: nothing (the Python version is part of every key);
- data: its content hash (:mod:`ductwork.incremental.values`).

What cannot be described soundly (a socket, a random generator, an open file) is recorded as a
reason the node cannot be cached; the node then always runs. "The project" is any code not
installed by a distribution: a module is a distribution's when the ``sys.path`` folder it was
imported from holds that distribution's ``.dist-info`` (so an editable install counts as project
code, hashed by its code, not by a version nobody bumps).
"""

from __future__ import annotations

import functools
import logging
import os
import re
import sys
import sysconfig
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import xxhash

from ductwork.incremental.values import Unhashable, ValueHasher

__all__ = ["CodeFingerprint", "Entry", "Fingerprinter", "not_cacheable"]

_CACHEABLE_ATTRIBUTE = "__ductwork_cacheable__"
_MODULE_DEPTH = 4
_SKIPPED_CLASS_ATTRIBUTES = frozenset(
    {"__dict__", "__weakref__", "__module__", "__doc__", "__qualname__", "__annotations__"}
)


def not_cacheable(func: Any) -> Any:
    """Mark a node's function as never cached: it always runs in incremental runs.

    Use it for functions with side effects or unseeded randomness::

        @not_cacheable
        def sample(data): ...
    """
    setattr(func, _CACHEABLE_ATTRIBUTE, False)
    return func


class Entry(NamedTuple):
    """One thing a node's result depends on: an id, what a person calls it, its digest."""

    id: str
    label: str
    digest: str
    shown: str = ""


class CodeFingerprint:
    """A node function's entries, and why it cannot be cached (if it cannot)."""

    # Plain classes with slots, not dataclasses: making a dataclass costs about a millisecond
    # at import, and this package is imported by every incremental run.
    __slots__ = ("cacheable", "entries", "unsound")

    def __init__(
        self,
        entries: list[Entry] | None = None,
        unsound: list[str] | None = None,
        cacheable: bool = True,
    ) -> None:
        self.entries: list[Entry] = entries if entries is not None else []
        self.unsound: list[str] = unsound if unsound is not None else []
        self.cacheable = cacheable

    def __repr__(self) -> str:
        return (
            f"CodeFingerprint(entries={self.entries!r}, unsound={self.unsound!r}, "
            f"cacheable={self.cacheable!r})"
        )


class _Direct:
    """What one function or class contributes itself, and the project objects it reaches."""

    __slots__ = ("edges", "entries", "keep", "unsound")

    def __init__(self, keep: Any) -> None:
        self.entries: list[Entry] = []
        self.unsound: list[str] = []
        self.edges: list[Any] = []
        self.keep = keep  # the object, kept alive so that its id is not reused during the run


class Fingerprinter:
    """Describes callables and values; one per run (it remembers what it has seen)."""

    def __init__(self, root: str | Path | None = None) -> None:
        self._given_root = root
        self._root: Path | None = None  # resolved when first needed (labels only)
        self._direct: dict[int, _Direct] = {}
        self._origins: dict[str, tuple[str, str]] = {}
        self._listings: dict[str, list[str]] = {}
        self._wheres: dict[str, str] = {}
        self._digests: dict[int, tuple[bytes, Any]] = {}

    # ---- public -------------------------------------------------------------------------

    def fingerprint(self, func: Any) -> CodeFingerprint:
        """The entries of a node's function (anything callable)."""
        result = CodeFingerprint(cacheable=getattr(func, _CACHEABLE_ATTRIBUTE, True) is not False)
        # The function's identity, so that two builtins (whose code is not seen) never collide.
        path = _callable_path(func)
        result.entries.append(Entry("callable", "the node's function", _text_digest(path), path))
        seen: set[int] = set()
        ids: dict[str, int] = {}
        for direct in self._walk(func, seen):
            for entry in direct.entries:
                count = ids[entry.id] = ids.get(entry.id, 0) + 1
                result.entries.append(
                    entry if count == 1 else entry._replace(id=f"{entry.id}#{count}")
                )
            result.unsound.extend(direct.unsound)
        return result

    def value_digest(self, value: Any) -> bytes:
        """The content hash of a value; functions and project objects inside it by their code.

        Raises:
            Unhashable: Some part cannot be hashed soundly.
        """
        hasher = ValueHasher(self._fallback)
        hasher.feed(value)
        return hasher.digest()

    # ---- walking ------------------------------------------------------------------------

    def _walk(self, root: Any, seen: set[int]) -> Iterator[_Direct]:
        stack = [root]
        while stack:
            obj = stack.pop()
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            direct = self._direct_of(obj)
            yield direct
            stack.extend(reversed(direct.edges))

    def _direct_of(self, obj: Any) -> _Direct:
        known = self._direct.get(id(obj))
        if known is not None and known.keep is obj:
            return known
        direct = _Direct(obj)
        self._describe(obj, direct)
        self._direct[id(obj)] = direct
        return direct

    def _describe(self, obj: Any, out: _Direct) -> None:
        if isinstance(obj, functools.partial):
            self._partial(obj, out)
        elif isinstance(obj, types.MethodType):
            out.edges.append(obj.__func__)
            self._reference(obj.__self__, f"the object of method {obj.__qualname__}()", out, ())
        elif isinstance(obj, types.FunctionType):
            origin = self._origin(obj.__module__ or "builtins")
            if origin[0] == "project":
                self._function(obj, out)
            else:
                self._package(origin, out)
        elif isinstance(obj, type):
            self._class(obj, out)
        elif callable(obj) and not isinstance(obj, types.BuiltinFunctionType):
            out.edges.append(type(obj))
            self._data(obj, f"the callable object {type(obj).__qualname__}", out)
        else:
            self._reference(obj, "the node's function", out, ())

    def _partial(self, obj: functools.partial[Any], out: _Direct) -> None:
        name = getattr(obj.func, "__qualname__", type(obj.func).__qualname__)
        for position, argument in enumerate(obj.args):
            self._reference(argument, f"partial argument {position} of {name}()", out, ())
        for keyword, argument in sorted(obj.keywords.items()):
            self._reference(argument, f"partial argument {keyword}= of {name}()", out, ())
        self._reference(obj.func, f"the function of partial {name}()", out, ())

    def _function(self, func: types.FunctionType, out: _Direct) -> None:
        name = func.__qualname__
        where = self._where(func.__module__)
        code = func.__code__
        out.entries.append(
            Entry(
                f"code {func.__module__}.{name}",
                f"{_kind(func)} {name}() in {where}",
                _code_digest(code).hex(),
            )
        )
        for variable, cell in zip(code.co_freevars, func.__closure__ or (), strict=False):
            try:
                contents = cell.cell_contents
            except ValueError:  # an empty cell: nothing to depend on yet
                continue
            self._reference(contents, f"closure value {variable} of {name}()", out, ())
        for position, default in enumerate(func.__defaults__ or ()):
            self._reference(default, f"default argument {position} of {name}()", out, ())
        for keyword, default in sorted((func.__kwdefaults__ or {}).items()):
            self._reference(default, f"default argument {keyword}= of {name}()", out, ())
        names = _global_names(code)
        namespace = func.__globals__
        for global_name in sorted(names):
            if global_name in namespace:
                label = f"global {global_name} in {where}"
                self._reference(namespace[global_name], label, out, names)

    def _class(self, cls: type, out: _Direct) -> None:
        origin = self._origin(cls.__module__)
        if origin[0] != "project":
            self._package(origin, out)
            return
        where = self._where(cls.__module__)
        hasher = xxhash.xxh3_128(f"{cls.__module__}.{cls.__qualname__}".encode())
        for base in cls.__bases__:
            hasher.update(f"{base.__module__}.{base.__qualname__}|".encode())
            self._reference(base, f"base class of {cls.__qualname__}", out, ())
        for attribute, value in sorted(vars(cls).items()):
            if attribute in _SKIPPED_CLASS_ATTRIBUTES:
                continue
            hasher.update(f"{attribute}|".encode())
            self._class_attribute(cls, attribute, value, out)
        out.entries.append(
            Entry(
                f"class {cls.__module__}.{cls.__qualname__}",
                f"class {cls.__qualname__} in {where}",
                hasher.hexdigest(),
            )
        )

    def _class_attribute(self, cls: type, attribute: str, value: Any, out: _Direct) -> None:
        label = f"attribute {cls.__qualname__}.{attribute}"
        if isinstance(value, (staticmethod, classmethod)):
            value = value.__func__
        if isinstance(value, property):
            for accessor in (value.fget, value.fset, value.fdel):
                if accessor is not None:
                    self._reference(accessor, label, out, ())
            return
        self._reference(value, label, out, ())

    # ---- references ---------------------------------------------------------------------

    def _reference(
        self, obj: Any, label: str, out: _Direct, names: frozenset[str] | tuple[()]
    ) -> None:
        """Record what ``obj`` (read by the code under ``label``) contributes."""
        if isinstance(obj, types.ModuleType):
            self._module(obj, label, out, names, 0)
        elif isinstance(obj, (types.FunctionType, type, functools.partial, types.MethodType)):
            module = getattr(obj, "__module__", None) or "builtins"
            if isinstance(obj, (functools.partial, types.MethodType)):
                out.edges.append(obj)
                return
            origin = self._origin(module)
            if origin[0] == "project":
                out.edges.append(obj)
            else:
                self._package(origin, out)
        elif isinstance(obj, types.BuiltinFunctionType):
            owner = obj.__self__
            if owner is None or isinstance(owner, types.ModuleType):
                self._package(self._origin(getattr(obj, "__module__", None) or "builtins"), out)
            else:
                self._data(owner, f"{label} (the object of {obj.__qualname__})", out)
        elif isinstance(obj, logging.Logger):
            return  # logging does not change results
        elif self._is_package_callable(obj):
            # A package's own module-level callable (numpy.mean is an object, not a function):
            # it is the package's code, pinned by the package's version.
            self._package(self._origin(_module_level_of(obj) or "builtins"), out)
        elif type(obj).__module__ in ("typing", "typing_extensions"):
            return  # annotations and type aliases: no effect on results
        else:
            self._data(obj, label, out)

    def _is_package_callable(self, obj: Any) -> bool:
        module = _module_level_of(obj)
        return module is not None and self._origin(module)[0] != "project"

    def _module(
        self,
        module: types.ModuleType,
        label: str,
        out: _Direct,
        names: frozenset[str] | tuple[()],
        depth: int,
    ) -> None:
        origin = self._origin(module.__name__)
        if origin[0] != "project":
            self._package(origin, out)
            return
        if depth >= _MODULE_DEPTH:
            return
        namespace = vars(module)
        for name in sorted(names):
            if name not in namespace:
                continue
            value = namespace[name]
            inner = f"{name} in {self._where(module.__name__)}"
            if isinstance(value, types.ModuleType):
                self._module(value, inner, out, names, depth + 1)
            else:
                self._reference(value, f"global {inner}", out, ())

    def _package(self, origin: tuple[str, str], out: _Direct) -> None:
        kind, detail = origin
        if kind == "package":
            name, _, version = detail.partition("==")
            out.entries.append(Entry(f"package {name}", f"package {name}", version, version))

    def _data(self, obj: Any, label: str, out: _Direct) -> None:
        try:
            digest = self.value_digest(obj)
        except Unhashable as reason:
            out.unsound.append(f"{label}: {reason}")
            return
        out.entries.append(Entry(f"value {label}", label, digest.hex()))

    def _fallback(self, obj: Any) -> bytes:
        """Hash a function, class or project object found inside a value."""
        known = self._digests.get(id(obj))
        if known is not None and known[1] is obj:
            return known[0]
        if isinstance(obj, (types.FunctionType, type, functools.partial, types.MethodType)):
            described = self.fingerprint(obj)
            if described.unsound:
                raise Unhashable(described.unsound[0])
            digest = _entries_digest(described.entries)
        elif self._origin(type(obj).__module__)[0] == "project" and hasattr(obj, "__dict__"):
            state = self.value_digest(dict(vars(obj)))
            digest = xxhash.xxh3_128(self._fallback(type(obj)) + state).digest()
        else:
            kind = type(obj)
            raise Unhashable(
                f"a value of type {kind.__module__}.{kind.__qualname__} cannot be hashed soundly"
            )
        self._digests[id(obj)] = (digest, obj)
        return digest

    # ---- origins ------------------------------------------------------------------------

    def _origin(self, module_name: str) -> tuple[str, str]:
        """``("project", "")``, ``("stdlib", "")`` or ``("package", "name==version")``."""
        top = module_name.partition(".")[0]
        known = self._origins.get(top)
        if known is None:
            known = self._origins[top] = self._find_origin(top)
        return known

    def _find_origin(self, top: str) -> tuple[str, str]:
        if top == "__main__":
            return ("project", "")
        if top in sys.stdlib_module_names or top == "builtins":
            return ("stdlib", "")
        module = sys.modules.get(top)
        path = getattr(module, "__file__", None)
        if path is None:
            locations = list(getattr(module, "__path__", []) or [])
            if not locations:  # built into the interpreter
                return ("stdlib", "") if module is not None else ("project", "")
            path = os.path.join(locations[0], "__init__.py")
        package_dir = Path(path).parent if Path(path).name == "__init__.py" else Path(path)
        folder = package_dir.parent
        dist = self._distribution_in(str(folder), top)
        if dist is not None:
            return ("package", dist)
        if _is_stdlib_path(path):
            return ("stdlib", "")
        return ("project", "")

    def _distribution_in(self, folder: str, top: str) -> str | None:
        listing = self._listings.get(folder)
        if listing is None:
            try:
                listing = self._listings[folder] = [
                    name for name in os.listdir(folder) if name.endswith(".dist-info")
                ]
            except OSError:
                listing = self._listings[folder] = []
        wanted = _normalise(top)
        for name in listing:
            if _normalise(name.partition("-")[0]) == wanted:
                return _dist_from_metadata(Path(folder) / name)
        for name in listing:  # distributions named otherwise than their top-level package
            top_level = Path(folder) / name / "top_level.txt"
            try:
                if top in top_level.read_text(encoding="utf-8").split():
                    return _dist_from_metadata(Path(folder) / name)
            except OSError:
                continue
        return None

    def _where(self, module_name: str) -> str:
        """Where a module's source is, for people: relative to the project when inside it
        (once per module: resolving a path asks the filesystem)."""
        known = self._wheres.get(module_name)
        if known is None:
            known = self._wheres[module_name] = self._find_where(module_name)
        return known

    def _find_where(self, module_name: str) -> str:
        module = sys.modules.get(module_name)
        path = getattr(module, "__file__", None)
        if path is None:
            return module_name
        try:
            if self._root is None:
                self._root = Path(self._given_root or os.getcwd()).resolve()
            return Path(path).resolve().relative_to(self._root).as_posix()
        except ValueError:
            return module_name


def _dist_from_metadata(folder: Path) -> str:
    name, version = folder.name[: -len(".dist-info")].partition("-")[::2]
    try:
        for line in (folder / "METADATA").read_text(encoding="utf-8").splitlines():
            if line.startswith("Name:"):
                name = line.partition(":")[2].strip()
            elif line.startswith("Version:"):
                version = line.partition(":")[2].strip()
            elif not line:
                break
    except OSError:
        pass
    return f"{name}=={version}"


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


@functools.cache
def _stdlib_folders() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    return tuple({os.path.realpath(paths[key]) for key in ("stdlib", "platstdlib") if key in paths})


def _is_stdlib_path(path: str) -> bool:
    real = os.path.realpath(path)
    return any(real.startswith(folder + os.sep) for folder in _stdlib_folders()) and (
        "site-packages" not in real
    )


def _kind(func: types.FunctionType) -> str:
    return "method" if "." in func.__qualname__.replace(".<locals>.", "") else "helper"


def _global_names(code: types.CodeType) -> frozenset[str]:
    """Every name the code or its nested code objects look up (globals and attributes)."""
    names = set(code.co_names)
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names |= _global_names(constant)
    return frozenset(names)


@functools.lru_cache(maxsize=4096)
def _code_digest(code: types.CodeType) -> bytes:
    """Bytecode, constants and names of ``code`` and its nested code; never line numbers."""
    hasher = xxhash.xxh3_128()
    header = (
        code.co_name,
        getattr(code, "co_qualname", ""),
        code.co_argcount,
        code.co_posonlyargcount,
        code.co_kwonlyargcount,
        code.co_flags,
        code.co_varnames,
        code.co_freevars,
        code.co_cellvars,
        code.co_names,
    )
    hasher.update(repr(header).encode())
    hasher.update(code.co_code)
    hasher.update(getattr(code, "co_exceptiontable", b""))
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            hasher.update(b"\x00code\x00" + _code_digest(constant))
        else:
            value = ValueHasher()
            value.feed(constant)
            hasher.update(b"\x00const\x00" + value.digest())
    return hasher.digest()


def _entries_digest(entries: list[Entry]) -> bytes:
    hasher = xxhash.xxh3_128()
    for entry in entries:
        hasher.update(f"{entry.id}\x00{entry.digest}\x00".encode())
    return hasher.digest()


def _module_level_of(obj: Any) -> str | None:
    """The module of a callable that is that module's own attribute (``numpy.mean``), when
    the module is not the project's; None for anything else."""
    if not callable(obj):
        return None
    module_name = getattr(obj, "__module__", None)
    name = getattr(obj, "__name__", None)
    if not isinstance(module_name, str) or not isinstance(name, str):
        return None
    module = sys.modules.get(module_name)
    if module is None or getattr(module, name, None) is not obj:
        return None
    return module_name


def _callable_path(func: Any) -> str:
    inner = func.func if isinstance(func, functools.partial) else func
    module = getattr(inner, "__module__", None) or type(inner).__module__
    name = getattr(inner, "__qualname__", None) or type(inner).__qualname__
    return f"{module}.{name}"


def _text_digest(text: str) -> str:
    return xxhash.xxh3_128_hexdigest(text.encode())

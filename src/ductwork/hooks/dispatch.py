"""Calling hooks cheaply: the snapshot of a manager's hooks that the per-node path calls.

A pluggy hook call costs about 2 µs with no implementation and 3 µs with one; a node fires up to
seven, and a no-op node costs about 15 µs in all. :class:`HookSnapshot` therefore resolves each
hook of a run once, to the cheapest callable that gives pluggy's answer:

- no implementation: a no-op that returns ``[]``;
- exactly one plain implementation (no ``wrapper``/``hookwrapper``, no keyword arguments with
  defaults, a specification without defaults, no call monitoring): a direct call of that
  function with the arguments it declares, returning ``[result]`` (``[]`` for ``None``), or the
  result itself for a ``firstresult`` hook. Its exception propagates as it does through pluggy
  (the same object, unwrapped). A call whose arguments are not exactly the specification's goes
  through pluggy, which warns or fails as it always does;
- anything else: pluggy's own ``HookCaller``, so that ordering, wrappers, exceptions and results
  are pluggy's.

A manager made by :func:`~ductwork.hooks.create_hook_manager` (a
:class:`~ductwork.hooks.plugin_manager.HookManager`) tells its snapshots when a plugin is
registered or unregistered, or monitoring starts, and they resolve again at once: a plugin
registered during a run (in ``before_pipeline_run``, or by another thread) is called from the
next hook call on, as pluggy would call it. Any other manager (a plain ``pluggy.PluginManager``,
Kedro's null one) is resolved once when the run starts and never called directly: its hooks with
implementations are its own ``HookCaller`` objects.

This module does not import pluggy: a run without plugins never loads it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import CodeType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pluggy

__all__ = ["HOOK_NAMES", "HookSnapshot"]

HOOK_NAMES: tuple[str, ...] = (
    "before_node_run",
    "after_node_run",
    "on_node_error",
    "on_node_retry",
    "before_dataset_loaded",
    "after_dataset_loaded",
    "before_dataset_saved",
    "after_dataset_saved",
    "before_pipeline_run",
    "after_pipeline_run",
    "on_pipeline_error",
)
"""Every hook ductwork fires, in the order of :mod:`ductwork.hooks.specs` (a test pins it)."""


def _no_hook(**_kwargs: Any) -> list[Any]:
    return []


def _plain(caller: Any, impl: Any) -> bool:
    """Whether calling ``impl`` directly gives what pluggy's call loop would give."""
    spec = caller.spec
    return (
        spec is not None
        and not caller.is_historic()
        and not getattr(spec, "kwargdefaults", None)  # pluggy >= 1.6 fills in defaults
        and not impl.wrapper
        and not impl.hookwrapper
        and not impl.kwargnames
        and set(impl.argnames) <= set(spec.argnames)
    )


# The direct calls' code, by hook and source: one per hook and shape of implementation.
_COMPILED: dict[tuple[str, str], CodeType] = {}

# Default of every argument of a direct call: tells "not passed" from any value, None included.
_MISSING: Any = object()


def _direct(caller: Any, impl: Any) -> Callable[..., Any]:
    """Call ``caller``'s one plain implementation ``impl`` without pluggy's call loop.

    The call is a function made for this hook (with ``exec``, as ``dataclasses`` makes its
    methods): keyword-only parameters named after the specification's arguments, so that a call
    builds no dict of keyword arguments and passes the implementation just the arguments it
    declares, positionally, as pluggy does. That is about 0.2 µs a call instead of 0.6 µs for a
    generic ``**kwargs`` wrapper (and 2-4 µs through pluggy). A call missing an argument or
    passing an extra one goes through pluggy, which warns, fails or ignores it as it always
    does.
    """
    spec = tuple(caller.spec.argnames)
    if not all(name.isidentifier() and not name.startswith("_") for name in spec):
        return caller  # type: ignore[no-any-return]  # (such names could clash with ours)
    parameters = "*, " * bool(spec) + "".join(f"{name}=_MISSING, " for name in spec)
    missing = "".join(f" or {name} is _MISSING" for name in spec)
    passed = "".join(f"({name!r}, {name})," for name in spec)
    first = caller.spec.opts.get("firstresult", False)  # one result, or None, not a list
    answer = "result" if first else "[] if result is None else [result]"
    source = (
        f"def call({parameters}**_extra):\n"
        f"    if _extra{missing}:\n"
        f"        given = {{key: value for key, value in ({passed}) if value is not _MISSING}}\n"
        f"        return _caller(**given, **_extra)\n"
        f"    result = _function({', '.join(impl.argnames)})\n"
        f"    return {answer}\n"
    )
    key = (caller.name, source)
    code = _COMPILED.get(key)
    if code is None:  # compiling costs ~0.1 ms; later runs and snapshots reuse it
        code = _COMPILED[key] = compile(source, f"<ductwork hook {caller.name}>", "exec")
    namespace = {"_MISSING": _MISSING, "_caller": caller, "_function": impl.function}
    exec(code, namespace)
    return namespace["call"]  # type: ignore[no-any-return]


def _resolve(caller: Any, direct: bool) -> Callable[..., Any]:
    impls = caller.get_hookimpls()  # None from a null manager
    if not impls:
        return _no_hook
    if direct and len(impls) == 1 and _plain(caller, impls[0]):
        return _direct(caller, impls[0])
    return caller  # type: ignore[no-any-return]


class HookSnapshot:
    """The hooks of one run: each attribute is the cheapest callable with pluggy's answer.

    ``before_node_run`` and the rest are called with keyword arguments and return the list of
    the implementations' non-``None`` results, as pluggy does. :meth:`has` tells whether a hook
    has any implementation, so that a caller can skip preparing costly arguments, and
    ``enabled`` whether any hook has one. With a manager from ``create_hook_manager`` all three
    follow later registrations (see the module's docstring).
    """

    def __init__(self, manager: pluggy.PluginManager | None) -> None:
        """Resolve the hooks of ``manager`` (``None`` means no plugins, and needs no pluggy).

        Raises:
            pluggy.PluginValidationError: A registered plugin implements a hook that has no
                specification (``check_pending``).
        """
        self.manager = manager
        self._active: frozenset[str] = frozenset()
        self.enabled = False
        self._follows = False
        self._lock = threading.Lock()
        for name in HOOK_NAMES:
            setattr(self, name, _no_hook)
        if manager is None:
            return
        manager.check_pending()
        from ductwork.hooks.plugin_manager import HookManager  # noqa: PLC0415 (pluggy is loaded)

        self._follows = isinstance(manager, HookManager)
        self.hooks_changed()
        if self._follows:
            manager.follow(self)  # type: ignore[attr-defined]

    def hooks_changed(self) -> None:
        """Resolve every hook again (the manager calls this after each change)."""
        manager: Any = self.manager
        # One resolution at a time: two threads registering at once leave the later state.
        with self._lock:
            direct = self._follows and not manager.monitored
            resolved = {name: _resolve(getattr(manager.hook, name), direct) for name in HOOK_NAMES}
            for name, call in resolved.items():
                setattr(self, name, call)
            active = (name for name, call in resolved.items() if call is not _no_hook)
            self._active = frozenset(active)
            self.enabled = bool(self._active)

    def has(self, name: str) -> bool:
        """Tell whether the hook ``name`` has at least one implementation."""
        return name in self._active

    # Declared for type checkers; set per instance in __init__.
    before_node_run: Any
    after_node_run: Any
    on_node_error: Any
    on_node_retry: Any
    before_dataset_loaded: Any
    after_dataset_loaded: Any
    before_dataset_saved: Any
    after_dataset_saved: Any
    before_pipeline_run: Any
    after_pipeline_run: Any
    on_pipeline_error: Any

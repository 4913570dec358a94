"""ductwork's pluggy plugin manager: pluggy's own, which also says when its hooks change.

:class:`~ductwork.hooks.dispatch.HookSnapshot` calls a hook with no implementation as a no-op
and a hook with one plain implementation directly, bypassing pluggy's call loop. That is only
right while the manager's implementations stay what they were when the snapshot resolved them, so
this manager tells its snapshots whenever a plugin is registered or unregistered (blocking one
unregisters it), when specifications are added, and when call monitoring (``enable_tracing``,
``add_hookcall_monitoring``) starts or stops. Everything else is pluggy's ``PluginManager``.

This is the one module of :mod:`ductwork.hooks` that needs pluggy when it is imported; the others
import it on first use, so that a run without plugins (a worker of one, especially) never loads
it.
"""

from __future__ import annotations

import threading
import types
import weakref
from collections.abc import Callable
from typing import Any, Protocol

import pluggy

__all__ = ["HookFollower", "HookManager"]


class HookFollower(Protocol):
    """What a manager tells of its changes (a :class:`~ductwork.hooks.dispatch.HookSnapshot`)."""

    def hooks_changed(self) -> None:
        """Resolve the manager's hooks again."""


class HookManager(pluggy.PluginManager):
    """A ``pluggy.PluginManager`` that tells its followers when its implementations change.

    Made by :func:`~ductwork.hooks.create_hook_manager`. Followers are held weakly: a finished
    run's snapshot goes away with its run.
    """

    def __init__(self, project_name: str) -> None:
        """A manager for ``project_name``, with no specification and no plugin yet."""
        super().__init__(project_name)
        self._followers: weakref.WeakSet[Any] = weakref.WeakSet()
        self._followers_lock = threading.Lock()
        # pluggy's own call loop; monitoring replaces it (see ``monitored``).
        self._plain_hookexec = getattr(self, "_inner_hookexec", None)

    @property
    def monitored(self) -> bool:
        """Whether a hook call goes through something other than pluggy's plain call loop.

        True while ``enable_tracing`` or ``add_hookcall_monitoring`` is in effect, and also when
        this pluggy keeps its call loop elsewhere than ductwork expects (then ductwork cannot
        tell, and calls every implementation through pluggy).
        """
        current = getattr(self, "_inner_hookexec", None)
        return current is None or current is not self._plain_hookexec

    def follow(self, follower: HookFollower) -> None:
        """Call ``follower.hooks_changed()`` after every later change of the implementations."""
        with self._followers_lock:
            self._followers.add(follower)

    def __getstate__(self) -> dict[str, Any]:
        # A copy (pluggy's managers pickle) follows nothing: its followers are this process's.
        state = dict(self.__dict__)
        del state["_followers"], state["_followers_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._followers = weakref.WeakSet()
        self._followers_lock = threading.Lock()

    def _changed(self) -> None:
        with self._followers_lock:
            followers = list(self._followers)
        for follower in followers:
            follower.hooks_changed()

    def register(self, plugin: object, name: str | None = None) -> str | None:
        """Register ``plugin`` as pluggy does, then tell the followers."""
        try:
            return super().register(plugin, name)
        finally:  # pluggy may have added some implementations before refusing another
            self._changed()

    def unregister(self, plugin: object | None = None, name: str | None = None) -> Any | None:
        """Unregister a plugin as pluggy does, then tell the followers."""
        try:
            return super().unregister(plugin, name)
        finally:
            self._changed()

    def add_hookspecs(self, module_or_class: types.ModuleType | type) -> None:
        """Add specifications as pluggy does (they may validate pending implementations)."""
        try:
            super().add_hookspecs(module_or_class)
        finally:
            self._changed()

    def add_hookcall_monitoring(
        self,
        before: Callable[[str, Any, Any], None],
        after: Callable[[Any, str, Any, Any], None],
    ) -> Callable[[], None]:
        """Monitor every hook call as pluggy does; while it is on, no call bypasses pluggy."""
        undo = super().add_hookcall_monitoring(before, after)
        self._changed()

        def undo_and_tell() -> None:
            undo()
            self._changed()

        return undo_and_tell

"""Building hook managers, and the snapshot of them that the per-node path calls.

An empty pluggy hook call costs about 2 µs; a node fires seven of them, which would be most of
the per-node budget of a no-op node. :class:`HookSnapshot` therefore notes which hooks have
implementations when a run starts and turns the others into a plain no-op. Plugins registered on
the manager while a run is under way are seen by the next run. (Not pluggy's ``HookCaller``,
which is one hook of a manager; a snapshot holds every hook of one run.)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pluggy

from ductwork.hooks.specs import PROJECT_NAME, DatasetSpecs, NodeSpecs, PipelineSpecs

__all__ = ["HookSnapshot", "create_hook_manager", "plugins_from", "registered_plugins"]

_SPECS = (NodeSpecs, DatasetSpecs, PipelineSpecs)
HOOK_NAMES: tuple[str, ...] = tuple(
    name for spec in _SPECS for name in vars(spec) if not name.startswith("_")
)


def create_hook_manager(*plugins: object) -> pluggy.PluginManager:
    """Create a plugin manager with ductwork's hook specifications registered.

    Args:
        *plugins: Plugins to register right away (objects or modules with ``@hook_impl`` methods).

    Returns:
        A ``pluggy.PluginManager`` for the ``"ductwork"`` project.

    Raises:
        pluggy.PluginValidationError: A plugin implements a hook with an argument the
            specification does not have, or a hook no specification declares.
    """
    manager = pluggy.PluginManager(PROJECT_NAME)
    for spec in _SPECS:
        manager.add_hookspecs(spec)
    for plugin in plugins:
        manager.register(plugin)
    manager.check_pending()
    return manager


def registered_plugins(manager: pluggy.PluginManager) -> list[tuple[str | None, object]]:
    """List a manager's plugins with the names they were registered under, in order.

    The process and Dask runners ship this list to their workers, which rebuild an equivalent
    manager with :func:`create_hook_manager`.
    """
    # A null manager (Kedro's `_NullPluginManager`) answers every call with None.
    plugins = manager.get_plugins() or ()
    return [(manager.get_name(plugin), plugin) for plugin in plugins]


def _no_hook(**_kwargs: Any) -> list[Any]:
    return []


class HookSnapshot:
    """The hooks of one run, resolved once: each attribute is a callable hook or a no-op.

    ``before_node_run`` and the rest are called with keyword arguments and return the list of
    the implementations' non-``None`` results, as pluggy does. :meth:`has` tells whether a hook
    has any implementation, so that a caller can skip preparing costly arguments, and
    ``enabled`` whether any hook has one.
    """

    def __init__(self, manager: pluggy.PluginManager | None) -> None:
        """Resolve the hooks of ``manager`` (``None`` means no plugins)."""
        self.manager = manager if manager is not None else create_hook_manager()
        self.manager.check_pending()
        self._active = frozenset(
            name for name in HOOK_NAMES if getattr(self.manager.hook, name).get_hookimpls()
        )
        self.enabled = bool(self._active)
        for name in HOOK_NAMES:
            setattr(self, name, getattr(self.manager.hook, name) if self.has(name) else _no_hook)

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


def plugins_from(items: Iterable[tuple[str | None, object]]) -> pluggy.PluginManager:
    """Rebuild a manager from :func:`registered_plugins` output (in a worker process)."""
    manager = create_hook_manager()
    for name, plugin in items:
        manager.register(plugin, name=name)
    manager.check_pending()
    return manager

"""Building hook managers, and the snapshot of them that the per-node path calls.

An empty pluggy hook call costs about 2 µs; a node fires seven of them, which would be most of
the per-node budget of a no-op node. :class:`HookSnapshot` therefore notes which hooks have
implementations when a run starts and turns the others into a plain no-op. Plugins registered on
the manager while a run is under way are seen by the next run. (Not pluggy's ``HookCaller``,
which is one hook of a manager; a snapshot holds every hook of one run.)
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Collection, Iterable
from importlib import metadata
from typing import Any

import pluggy

from ductwork.hooks.specs import PROJECT_NAME, DatasetSpecs, NodeSpecs, PipelineSpecs

__all__ = [
    "ENTRY_POINT_GROUP",
    "HookSnapshot",
    "create_hook_manager",
    "plugins_from",
    "register_entry_point_hooks",
    "register_hooks",
    "registered_plugins",
]

ENTRY_POINT_GROUP = "ductwork.hooks"

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


# Kedro's framework hooks: a project's hooks class may still implement them after moving to
# ductwork, which has no session or context to fire them from.
_KEDRO_FRAMEWORK_HOOKS = frozenset(
    {"after_catalog_created", "after_context_created", "before_command_run", "after_command_run"}
)


def _unknown_hook_message(name: str, source: str) -> str:
    message = f"{source}: method '{name}' is marked as a hook, but ductwork has no hook '{name}'"
    if name in _KEDRO_FRAMEWORK_HOOKS:
        message += " (it is a Kedro framework hook; ductwork has no session to fire it from)"
    else:
        close = difflib.get_close_matches(name, HOOK_NAMES, n=1)
        if close:
            message += f" (did you mean '{close[0]}'?)"
    return message + f". The hooks are: {', '.join(HOOK_NAMES)}."


def _check_plugin(plugin: object, source: str) -> None:
    """Refuse, naming the method, what registering would silently ignore or fail on later."""
    marker = f"{PROJECT_NAME}_impl"
    implemented = []
    for name, member in inspect.getmembers(plugin):
        if name.startswith("__"):
            continue
        if hasattr(member, marker):
            if name not in HOOK_NAMES:
                raise pluggy.PluginValidationError(plugin, _unknown_hook_message(name, source))
            implemented.append(name)
        elif hasattr(member, "kedro_impl"):
            raise pluggy.PluginValidationError(
                plugin,
                f"{source}: method '{name}' is marked with Kedro's hook_impl; import hook_impl "
                "from ductwork.hooks instead.",
            )
        elif name in HOOK_NAMES and callable(member):
            raise pluggy.PluginValidationError(
                plugin,
                f"{source}: method '{name}' is named after a hook but not marked with "
                "@hook_impl (from ductwork.hooks), so it would never be called.",
            )
    if not implemented:
        raise pluggy.PluginValidationError(
            plugin, f"{source}: registers no hooks (mark its methods with @hook_impl)."
        )


def register_hooks(manager: pluggy.PluginManager, plugin: object, source: str) -> None:
    """Register one hooks object, checking it first.

    A class is instantiated without arguments (as ``[tool.ductwork] hooks`` names classes);
    an instance or a module is registered as it is.

    Args:
        manager: The manager to register on.
        plugin: A hooks class, instance or module.
        source: Where the hooks were named (a file and key, an option, an entry point), for
            error messages.

    Raises:
        pluggy.PluginValidationError: A method is marked as a hook that ductwork does not have,
            is marked with Kedro's marker, is named after a hook without the marker, has an
            argument the hook does not pass; or the object implements no hook at all.
    """
    if inspect.isclass(plugin):
        try:
            plugin = plugin()
        except Exception as error:
            raise pluggy.PluginValidationError(
                plugin, f"{source}: creating the hooks object failed: {error!r}"
            ) from error
    if manager.is_registered(plugin):
        return
    _check_plugin(plugin, source)
    try:
        manager.register(plugin)
    except pluggy.PluginValidationError as error:
        raise pluggy.PluginValidationError(plugin, f"{source}: {error}") from error


def register_entry_point_hooks(
    manager: pluggy.PluginManager, disabled: Collection[str] = ()
) -> list[str]:
    """Register the hooks installed packages declare in the ``ductwork.hooks`` group.

    Args:
        manager: The manager to register on.
        disabled: Entry-point or distribution names to skip (``disable_hooks_for_plugins``).

    Returns:
        ``"name (distribution)"`` for every plugin registered.
    """
    registered = []
    for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        distribution = entry_point.dist.name if entry_point.dist is not None else ""
        if entry_point.name in disabled or distribution in disabled:
            continue
        source = f"entry point '{entry_point.name}' of {distribution or 'an unknown package'}"
        try:
            plugin = entry_point.load()
        except Exception as error:
            raise pluggy.PluginValidationError(
                entry_point, f"{source}: loading {entry_point.value} failed: {error!r}"
            ) from error
        register_hooks(manager, plugin, source)
        registered.append(f"{entry_point.name} ({distribution})")
    return registered

"""Building hook managers and registering a project's plugins on them.

The managers are :class:`~ductwork.hooks.plugin_manager.HookManager`, pluggy's own manager that
also tells the run's :class:`~ductwork.hooks.dispatch.HookSnapshot` (re-exported here) when its
plugins change. Importing this module does not import pluggy (nor ``importlib.metadata``): the
functions that need it import it, so that a run without plugins, and a worker of one, never
loads it.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING

from ductwork.hooks.dispatch import HOOK_NAMES, HookSnapshot

if TYPE_CHECKING:
    import pluggy

    from ductwork.hooks.plugin_manager import HookManager

__all__ = [
    "ENTRY_POINT_GROUP",
    "HOOK_NAMES",
    "HookSnapshot",
    "create_hook_manager",
    "plugins_from",
    "register_entry_point_hooks",
    "register_hooks",
    "registered_plugins",
]

ENTRY_POINT_GROUP = "ductwork.hooks"
PROJECT_NAME = "ductwork"  # the same as ductwork.hooks.specs.PROJECT_NAME (a test pins it)


def create_hook_manager(*plugins: object) -> HookManager:
    """Create a plugin manager with ductwork's hook specifications registered.

    Args:
        *plugins: Plugins to register right away (objects or modules with ``@hook_impl`` methods).

    Returns:
        A ``pluggy.PluginManager`` for the ``"ductwork"`` project (a
        :class:`~ductwork.hooks.plugin_manager.HookManager`, which keeps the hooks of a run under
        way cheap to call and up to date).

    Raises:
        pluggy.PluginValidationError: A plugin implements a hook with an argument the
            specification does not have, or a hook no specification declares.
    """
    from ductwork.hooks.plugin_manager import HookManager  # noqa: PLC0415 (loads pluggy)
    from ductwork.hooks.specs import DatasetSpecs, NodeSpecs, PipelineSpecs  # noqa: PLC0415

    manager = HookManager(PROJECT_NAME)
    for spec in (NodeSpecs, DatasetSpecs, PipelineSpecs):
        manager.add_hookspecs(spec)
    for plugin in plugins:
        manager.register(plugin)
    manager.check_pending()
    return manager


def registered_plugins(
    manager: pluggy.PluginManager | None,
) -> list[tuple[str | None, object]]:
    """List a manager's plugins with the names they were registered under, in order.

    The process and Dask runners ship this list to their workers, which rebuild an equivalent
    manager with :func:`plugins_from`. ``None`` (no manager) has none.
    """
    if manager is None:
        return []
    # A null manager (Kedro's `_NullPluginManager`) answers every call with None.
    plugins = manager.get_plugins() or ()
    return [(manager.get_name(plugin), plugin) for plugin in plugins]


def plugins_from(items: Iterable[tuple[str | None, object]]) -> HookManager | None:
    """Rebuild a manager from :func:`registered_plugins` output (in a worker process).

    No plugins give ``None``, which :class:`HookSnapshot` takes for "no hooks": a worker of a run
    without plugins does not import pluggy.
    """
    items = list(items)
    if not items:
        return None
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
    import pluggy  # noqa: PLC0415 (a manager exists, so it is loaded)

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
    import pluggy  # noqa: PLC0415 (a manager exists, so it is loaded)

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
    from importlib import metadata  # noqa: PLC0415 (slow to import: only when asked)

    import pluggy  # noqa: PLC0415 (a manager exists, so it is loaded)

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

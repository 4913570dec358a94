"""Registering a project's hooks: every mistake is an error at registration, naming the method."""

from __future__ import annotations

from typing import Any

import pluggy
import pytest

from ductwork.hooks import create_hook_manager, hook_impl
from ductwork.hooks.manager import register_entry_point_hooks, register_hooks

kedro_impl = pluggy.HookimplMarker("kedro")


class Good:
    @hook_impl
    def before_node_run(self, node: Any) -> None:
        pass

    def helper(self) -> None:
        """Not a hook: plain methods are fine."""


class Misspelt:
    @hook_impl
    def befor_node_run(self, node: Any) -> None:
        pass


class KedroFramework:
    @hook_impl
    def after_catalog_created(self, catalog: Any) -> None:
        pass


class KedroMarker:
    @kedro_impl
    def before_node_run(self, node: Any) -> None:
        pass


class Unmarked:
    def after_node_run(self, node: Any) -> None:
        pass


class Nothing:
    def helper(self) -> None:
        pass


class WrongArgument:
    @hook_impl
    def before_node_run(self, node: Any, nonsense: Any) -> None:
        pass


class NeedsArguments:
    def __init__(self, required: int) -> None:
        self.required = required


BAD: list[tuple[type, str]] = [
    (Misspelt, "method 'befor_node_run' is marked as a hook.*did you mean 'before_node_run'"),
    (KedroFramework, "'after_catalog_created'.*Kedro framework hook"),
    (KedroMarker, "'before_node_run' is marked with Kedro's hook_impl"),
    (Unmarked, "'after_node_run' is named after a hook but not marked"),
    (Nothing, "registers no hooks"),
    (WrongArgument, "nonsense"),
    (NeedsArguments, "creating the hooks object failed"),
]


@pytest.mark.parametrize(("plugin", "said"), BAD, ids=[case[0].__name__ for case in BAD])
def test_mistakes_are_errors_at_registration_naming_the_source(plugin: type, said: str) -> None:
    manager = create_hook_manager()
    with pytest.raises(pluggy.PluginValidationError, match=said) as caught:
        register_hooks(manager, plugin, "settings.py HOOKS")
    assert str(caught.value).startswith("settings.py HOOKS: ")
    assert manager.get_plugins() == set()


def test_a_class_is_instantiated_and_an_instance_registered_once() -> None:
    manager = create_hook_manager()
    register_hooks(manager, Good, "a")
    instance = Good()
    register_hooks(manager, instance, "b")
    register_hooks(manager, instance, "b again")
    plugins = manager.get_plugins()
    assert len(plugins) == 2
    assert instance in plugins
    assert all(isinstance(plugin, Good) for plugin in plugins)


def test_no_entry_points_registers_nothing() -> None:
    manager = create_hook_manager()
    assert register_entry_point_hooks(manager, ()) == []

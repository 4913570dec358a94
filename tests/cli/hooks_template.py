"""Hooks for the command-line tests, copied into a project as ``proj_hooks.py``.

Each class appends ``<source>:<node>`` to ``hooks.log`` beside this file after every node, so a
test sees which sources' hooks ran, in any runner.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ductwork.hooks import hook_impl

HERE = Path(__file__).resolve().parent


def _log(source: str, node: Any) -> None:
    with open(HERE / "hooks.log", "a", encoding="utf-8") as log:
        log.write(f"{source}:{node.name}\n")


class ProjectHooks:
    @hook_impl
    def after_node_run(self, node: Any) -> None:
        _log("project", node)


class CommandLineHooks:
    @hook_impl
    def after_node_run(self, node: Any) -> None:
        _log("cli", node)


class SettingsHooks:
    @hook_impl
    def after_node_run(self, node: Any) -> None:
        _log("settings", node)


class PluginHooks:
    @hook_impl
    def after_node_run(self, node: Any) -> None:
        _log("plugin", node)


plugin = PluginHooks()


class Misspelt:
    @hook_impl
    def after_nod_run(self, node: Any) -> None:
        _log("never", node)

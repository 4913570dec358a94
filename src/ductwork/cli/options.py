"""The configuration options of ``ductwork run`` (click), kept apart from the other options."""

from __future__ import annotations

from typing import Any

import click

__all__ = ["config_options"]

_OPTIONS: list[tuple[tuple[str, ...], dict[str, Any]]] = [
    (
        ("--catalog",),
        {
            "multiple": True,
            "type": click.Path(dir_okay=False),
            "help": "A catalog YAML file instead of the configuration folder's (repeatable; "
            "later files win).",
        },
    ),
    (
        ("--params",),
        {
            "multiple": True,
            "metavar": "KEY=VALUE|FILE",
            "help": "A runtime parameter (key=value, a YAML value; dotted keys nest; "
            "comma-separated) or a parameters YAML file; repeatable.",
        },
    ),
    (
        ("--env",),
        {"metavar": "NAME", "help": "The configuration environment over base (default local)."},
    ),
    (
        ("--conf-source",),
        {
            "type": click.Path(file_okay=False),
            "help": "The configuration folder (default ./conf of the project).",
        },
    ),
    (
        ("--hooks",),
        {
            "multiple": True,
            "metavar": "MODULE:CLASS",
            "help": "Hooks to register (comma-separated; repeatable).",
        },
    ),
]


def config_options(command: Any) -> Any:
    """Add ``--catalog``, ``--params``, ``--env``, ``--conf-source`` and ``--hooks``."""
    for flags, settings in reversed(_OPTIONS):
        command = click.option(*flags, **settings)(command)
    return command

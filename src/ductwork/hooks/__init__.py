"""Hooks: let plugins observe and change a run, through pluggy.

Write a class with methods named after the hooks in :mod:`ductwork.hooks.specs`, decorate them with
:data:`hook_impl`, register an instance on a manager from :func:`create_hook_manager` and pass the
manager to ``runner.run(..., hook_manager=manager)``.

The names are loaded on first use (PEP 562), so that the modules of the run path that only
call hooks (``ductwork.hooks.dispatch``) do not import pluggy when a run has no plugins.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ductwork.hooks.manager import create_hook_manager
    from ductwork.hooks.specs import hook_impl, hook_spec

__all__ = ["create_hook_manager", "hook_impl", "hook_spec"]

_HOME_OF = {
    "create_hook_manager": "ductwork.hooks.manager",
    "hook_impl": "ductwork.hooks.specs",
    "hook_spec": "ductwork.hooks.specs",
}


def __getattr__(name: str) -> Any:
    home = _HOME_OF.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})

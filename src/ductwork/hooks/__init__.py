"""Hooks: let plugins observe and change a run, through pluggy.

Write a class with methods named after the hooks in :mod:`ductwork.hooks.specs`, decorate them with
:data:`hook_impl`, register an instance on a manager from :func:`create_hook_manager` and pass the
manager to ``runner.run(..., hook_manager=manager)``.
"""

from ductwork.hooks.manager import create_hook_manager
from ductwork.hooks.specs import hook_impl, hook_spec

__all__ = ["create_hook_manager", "hook_impl", "hook_spec"]

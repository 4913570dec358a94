"""ductwork: run pipelines of Python functions on one core, many cores, or a cluster.

The main names are importable from here; each also lives in the module Kedro users expect:
``ductwork.pipeline``, ``ductwork.io``, ``ductwork.runner`` and ``ductwork.hooks``. Importing
ductwork never imports dask, pandas or rich. (The ``pipeline()`` function is not re-exported:
its name would hide the ``ductwork.pipeline`` module.)

The names are loaded on first use (PEP 562): ``import ductwork`` alone imports almost nothing,
so a worker process, the command line's ``--help`` and a program that only needs
``ductwork.pipeline`` do not pay for the runners, the catalog and pluggy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ductwork.exceptions import (
        DatasetError,
        DuctworkDeprecationWarning,
        DuctworkError,
        PipelineError,
        RunnerError,
    )
    from ductwork.hooks import create_hook_manager, hook_impl
    from ductwork.io import DataCatalog, MemoryDataset, SharedMemoryDataCatalog
    from ductwork.pipeline import Pipeline
    from ductwork.pipeline.node import Node, node
    from ductwork.runner import (
        AbstractRunner,
        DaskRunner,
        ParallelRunner,
        SequentialRunner,
        ThreadRunner,
    )

    KedroDeprecationWarning = DuctworkDeprecationWarning

__version__ = "0.1.0"

_HOMES = {
    "ductwork.exceptions": ("DatasetError", "DuctworkError", "PipelineError", "RunnerError"),
    "ductwork.hooks": ("create_hook_manager", "hook_impl"),
    "ductwork.io": ("DataCatalog", "MemoryDataset", "SharedMemoryDataCatalog"),
    "ductwork.pipeline": ("Node", "Pipeline", "node"),
    "ductwork.runner": (
        "AbstractRunner",
        "DaskRunner",
        "ParallelRunner",
        "SequentialRunner",
        "ThreadRunner",
    ),
}
_SUBPACKAGES = frozenset({*(home.split(".")[1] for home in _HOMES), "datasets", "report"})
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}
# Code ported from Kedro filters or catches its deprecation warnings under this name.
_ALIASES = {"KedroDeprecationWarning": ("ductwork.exceptions", "DuctworkDeprecationWarning")}

__all__ = [
    "AbstractRunner",
    "DaskRunner",
    "DataCatalog",
    "DatasetError",
    "DuctworkError",
    "MemoryDataset",
    "Node",
    "ParallelRunner",
    "Pipeline",
    "PipelineError",
    "RunnerError",
    "SequentialRunner",
    "SharedMemoryDataCatalog",
    "ThreadRunner",
    "__version__",
    "create_hook_manager",
    "hook_impl",
    "node",
]


def __getattr__(name: str) -> Any:
    home = _HOME_OF.get(name)
    if home is not None:
        value = getattr(importlib.import_module(home), name)
    elif name in _ALIASES:
        module, real_name = _ALIASES[name]
        value = getattr(importlib.import_module(module), real_name)
    elif name in _SUBPACKAGES:  # ``import ductwork; ductwork.io.DataCatalog`` as before
        value = importlib.import_module(f"ductwork.{name}")
    else:
        raise AttributeError(f"module 'ductwork' has no attribute {name!r}")
    globals()[name] = value  # found directly from now on
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})

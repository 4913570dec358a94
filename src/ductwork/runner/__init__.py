"""Runners: run a pipeline's nodes against a catalog, in order, on threads, on processes or on a
Dask cluster, with the same results, hooks and errors.

Each runner is a small configuration of one run loop (:mod:`.loop`) over an executor
(:mod:`.executors`), and every executor runs each node through the run's
:class:`~ductwork.execution.NodeShell`. The executors are ductwork's own, behind the narrow
``NodeExecutor`` protocol, rather than ``concurrent.futures`` executors, because a run needs what
those cannot give: stopping one node's worker at its time limit (a ``ProcessPoolExecutor`` can
only break the whole pool), noticing at once that a worker died and which node it ran, handing
data between processes through shared memory without a copy, and leaving data on the Dask worker
that computed it so that Dask places the next node next to it.

The names load on first use (PEP 562), as ``ductwork``'s do: a worker process imports
``ductwork.runner.processes.worker`` without paying for every runner (and the Dask one's
imports), and ``from ductwork.runner import RunObserver`` loads the run loop alone.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ductwork.exceptions import (
        MissingInputsError,
        NotPicklableError,
        RemoteNodeError,
        RunnerError,
        WorkerLostError,
    )
    from ductwork.execution import NodeOutcome
    from ductwork.runner.dask_runner import DaskRunner
    from ductwork.runner.loop import RunObserver
    from ductwork.runner.parallel_runner import ParallelRunner
    from ductwork.runner.runner import AbstractRunner
    from ductwork.runner.sequential_runner import SequentialRunner
    from ductwork.runner.thread_runner import ThreadRunner

_HOMES = {
    "ductwork.exceptions": (
        "MissingInputsError",
        "NotPicklableError",
        "RemoteNodeError",
        "RunnerError",
        "WorkerLostError",
    ),
    "ductwork.execution": ("NodeOutcome",),
    "ductwork.runner.dask_runner": ("DaskRunner",),
    "ductwork.runner.loop": ("RunObserver",),
    "ductwork.runner.parallel_runner": ("ParallelRunner",),
    "ductwork.runner.runner": ("AbstractRunner",),
    "ductwork.runner.sequential_runner": ("SequentialRunner",),
    "ductwork.runner.thread_runner": ("ThreadRunner",),
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}

__all__ = [
    "AbstractRunner",
    "DaskRunner",
    "MissingInputsError",
    "NodeOutcome",
    "NotPicklableError",
    "ParallelRunner",
    "RemoteNodeError",
    "RunObserver",
    "RunnerError",
    "SequentialRunner",
    "ThreadRunner",
    "WorkerLostError",
]


def __getattr__(name: str) -> Any:
    home = _HOME_OF.get(name)
    if home is None:  # a submodule (``from ductwork.runner import loop``) is imported as usual
        raise AttributeError(f"module 'ductwork.runner' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # found directly from now on
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})

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
"""

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

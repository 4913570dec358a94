"""Runners: run a pipeline's nodes against a catalog, in order, on threads, on processes or on a
Dask cluster, with the same results, hooks and errors.
"""

from ductwork.exceptions import (
    MissingInputsError,
    NotPicklableError,
    RemoteNodeError,
    RunnerError,
    WorkerLostError,
)
from ductwork.runner.dask_runner import DaskRunner
from ductwork.runner.executors import NodeOutcome
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

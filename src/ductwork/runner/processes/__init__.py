"""Running nodes on worker processes: the machinery behind ``ParallelRunner``.

* :mod:`.executor`: the run loop's executor (what travels, when data is freed);
* :mod:`.pool`: starting, listening to and stopping the worker processes; :mod:`.handle`: one
  worker, written to without ever waiting on a worker that waits on the parent;
* :mod:`.worker`: the worker process itself; :mod:`.exchange`: its in-memory datasets;
* :mod:`.transport`: values through shared memory (pickle protocol 5, zero-copy loads);
* :mod:`.protocol`: the messages, and how errors and log records travel.

What cannot be pickled is reported before any worker starts, by :mod:`ductwork.runner.validation`
(shared with the Dask runner).

``ProcessExecutor`` loads on first use (PEP 562), so that a worker, which imports
:mod:`.worker`, does not import the parent's side (the executor and the pool).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ductwork.runner.processes.executor import ProcessExecutor

__all__ = ["ProcessExecutor"]


def __getattr__(name: str) -> Any:
    if name != "ProcessExecutor":  # a submodule is imported as usual
        raise AttributeError(f"module 'ductwork.runner.processes' has no attribute {name!r}")
    from ductwork.runner.processes.executor import ProcessExecutor  # noqa: PLC0415

    globals()[name] = ProcessExecutor
    return ProcessExecutor

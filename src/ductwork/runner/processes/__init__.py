"""Running nodes on worker processes: the machinery behind ``ParallelRunner``.

* :mod:`.executor`: the run loop's executor (what travels, when data is freed);
* :mod:`.pool`: starting, listening to and stopping the worker processes;
* :mod:`.worker`: the worker process itself; :mod:`.exchange`: its in-memory datasets;
* :mod:`.transport`: values through shared memory (pickle protocol 5, zero-copy loads);
* :mod:`.protocol`: the messages, and how errors and log records travel.

What cannot be pickled is reported before any worker starts, by :mod:`ductwork.runner.validation`
(shared with the Dask runner).
"""

from ductwork.runner.processes.executor import ProcessExecutor

__all__ = ["ProcessExecutor"]

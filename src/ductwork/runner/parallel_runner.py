"""``ParallelRunner``: independent nodes at the same time, on worker processes.

Processes suit CPU-bound Python code, which threads cannot run in parallel. The runner is the
run loop over a :class:`~ductwork.runner.processes.ProcessExecutor`; in short:

* **Start method.** ``forkserver`` where it exists, else ``spawn``: never a bare ``fork`` of a
  parent that may hold threads (the child can hang on a lock copied while held). Scripts must
  guard their entry point with ``if __name__ == "__main__":``. Choose another with
  ``mp_context``.
* **Workers start once per run**, as many as nodes can run at once (at most ``max_workers``),
  and receive once the shipped datasets, the node shell (run id, options, hook plugins) and the
  logging levels. Each node travels once, when submitted (or earlier, when it only waits for
  nodes queued on one worker: it goes there, see :mod:`.processes.ahead`), pickled with
  cloudpickle: lambdas, closures and functions defined in ``__main__`` work.
* **Data.** In-memory data travels through shared memory; large buffers (numpy arrays, pandas
  and arrow columns) are mapped by the consumer without a copy. Persisted datasets are loaded
  and saved by the workers themselves.
* **Hooks** fire in the worker that runs the node; each worker has its own copy of each plugin.
  Log records of workers reach the parent's loggers.
* **Failures.** A node's exception reaches the caller with its type, message and the worker's
  traceback (as ``__cause__``). A worker that dies (a signal, the out-of-memory killer) fails
  the run at once with :class:`~ductwork.exceptions.WorkerLostError` naming the node (with
  ``keep_going``, a fresh worker takes its place). A node past its time limit has its worker
  stopped and replaced. Ctrl-C stops the workers. No shared-memory segment outlives the run.
"""

from __future__ import annotations

import multiprocessing
import sys
from multiprocessing.context import BaseContext

from ductwork.exceptions import RunnerOptionError
from ductwork.pipeline import Retry
from ductwork.runner.executors import NodeExecutor, RunContext
from ductwork.runner.processes import ProcessExecutor
from ductwork.runner.runner import AbstractRunner

__all__ = ["ParallelRunner"]

START_METHODS = ("fork", "spawn", "forkserver")

# multiprocessing.connection.wait watches at most 63 handles on Windows: a pipe and a process
# handle per worker.
_MAX_WINDOWS_PROCESSES = 31


class ParallelRunner(AbstractRunner):
    """Runs nodes whose inputs are ready concurrently, on up to ``max_workers`` processes.

    Node and dataset hooks fire in the worker running the node, each worker with its own copy of
    each plugin (state a plugin gathers stays there); pipeline hooks fire in the parent.

    Example:
        >>> runner = ParallelRunner(max_workers=4)  # doctest: +SKIP
        >>> runner.run(pipeline, catalog)["model"].load()  # doctest: +SKIP
    """

    _logs_synchronous_mode = True

    def __init__(
        self,
        max_workers: int | None = None,
        is_async: bool = False,
        mp_context: str | BaseContext | None = None,
        *,
        retry: Retry | None = None,
        timeout: float | None = None,
        keep_going: bool = False,
        max_running: int | None = None,
    ) -> None:
        """Create a process runner.

        Args:
            max_workers: The most worker processes to use; the machine's CPU count when not
                given. A run never starts more workers than nodes that can run at once.
            is_async: Also load each node's inputs and save its outputs concurrently, on
                threads inside the worker.
            mp_context: How to start workers: ``"forkserver"``, ``"spawn"``, ``"fork"``, or a
                ``multiprocessing`` context. By default ``"forkserver"`` where the platform has
                it, else ``"spawn"``.
            retry, timeout, keep_going, max_running: How failing, slow and numerous nodes
                are treated (see :class:`~ductwork.runner.AbstractRunner`).

        Raises:
            RunnerOptionError: ``max_workers`` is zero or negative, or ``mp_context`` names a
                start method this platform does not have (a ``ValueError``), or is neither a
                name nor a ``multiprocessing`` context (a ``TypeError``).
        """
        super().__init__(
            is_async, retry=retry, timeout=timeout, keep_going=keep_going, max_running=max_running
        )
        self._max_workers = self._validate_max_workers(max_workers)
        if sys.platform == "win32":
            self._max_workers = min(self._max_workers, _MAX_WINDOWS_PROCESSES)
        self._mp_context = _context_of(mp_context)

    @property
    def start_method(self) -> str:
        """How this runner starts its workers: ``"forkserver"``, ``"spawn"`` or ``"fork"``."""
        method: str = self._mp_context.get_start_method()
        return method

    def _create_executor(self, context: RunContext) -> NodeExecutor:
        workers = self._get_required_workers_count(context.pipeline)
        return ProcessExecutor(context, workers, self._mp_context)


def _context_of(mp_context: str | BaseContext | None) -> BaseContext:
    available = [m for m in START_METHODS if m in multiprocessing.get_all_start_methods()]
    if mp_context is None:
        mp_context = "forkserver" if "forkserver" in available else "spawn"
    if isinstance(mp_context, str):
        if mp_context not in available:
            raise RunnerOptionError(
                f"Unknown start method {mp_context!r} for mp_context: use one of "
                f"{', '.join(repr(m) for m in available)}, or a multiprocessing context."
            )
        return multiprocessing.get_context(mp_context)
    if isinstance(mp_context, BaseContext):
        return mp_context
    raise RunnerOptionError(
        "mp_context must be a start method name or a multiprocessing context, not "
        f"{type(mp_context).__name__}."
    )

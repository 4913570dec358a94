"""``ThreadRunner``: independent nodes at the same time, on a pool of threads.

Threads suit nodes that wait (on files, networks, databases, or native code that releases the
GIL). All threads share one catalog, which is safe to use from many threads at once.

Unlike Kedro's, this runner supports ``is_async=True``: loads and saves then also run
concurrently, on a separate pool of I/O threads.

A thread cannot be stopped from outside. A node past its time limit is reported failed at once
and its thread abandoned: it finishes its call in the background and saves nothing. On Ctrl-C or
a failure, running nodes get ``grace`` seconds to finish their call; see
:mod:`ductwork.runner.thread_executor`.
"""

from __future__ import annotations

from ductwork.pipeline import Retry
from ductwork.runner.executors import NodeExecutor, RunContext
from ductwork.runner.runner import AbstractRunner
from ductwork.runner.thread_executor import ThreadExecutor

__all__ = ["ThreadRunner"]


class ThreadRunner(AbstractRunner):
    """Runs nodes whose inputs are ready concurrently, on up to ``max_workers`` threads."""

    def __init__(
        self,
        max_workers: int | None = None,
        is_async: bool = False,
        *,
        retry: Retry | None = None,
        timeout: float | None = None,
        keep_going: bool = False,
        max_running: int | None = None,
    ) -> None:
        """Create a thread runner.

        Args:
            max_workers: The most threads to use; the machine's CPU count when not given. A run
                never uses more threads than nodes that can run at once.
            is_async: Also load each node's inputs and save its outputs concurrently.
            retry, timeout, keep_going, max_running: How failing, slow and numerous nodes
                are treated (see :class:`~ductwork.runner.AbstractRunner`).

        Raises:
            RunnerOptionError: ``max_workers`` or ``max_running`` is zero or negative.
        """
        super().__init__(
            is_async, retry=retry, timeout=timeout, keep_going=keep_going, max_running=max_running
        )
        self._max_workers = self._validate_max_workers(max_workers)

    def _create_executor(self, context: RunContext) -> NodeExecutor:
        return ThreadExecutor(context, self._get_required_workers_count(context.pipeline))

"""``ThreadRunner``: independent nodes at the same time, on a pool of threads.

Threads suit nodes that wait (on files, networks, databases, or native code that releases the
GIL). All threads share one catalog, which is safe to use from many threads at once.

Unlike Kedro's, this runner supports ``is_async=True``: loads and saves then also run
concurrently, on a separate pool of I/O threads.
"""

from __future__ import annotations

from ductwork.pipeline import Pipeline
from ductwork.runner.executors import NodeExecutor, RunContext, ThreadExecutor
from ductwork.runner.runner import AbstractRunner

__all__ = ["ThreadRunner"]


class ThreadRunner(AbstractRunner):
    """Runs nodes whose inputs are ready concurrently, on up to ``max_workers`` threads."""

    def __init__(self, max_workers: int | None = None, is_async: bool = False) -> None:
        """Create a thread runner.

        Args:
            max_workers: The most threads to use; the machine's CPU count when not given. A run
                never uses more threads than nodes that can run at once.
            is_async: Also load each node's inputs and save its outputs concurrently.

        Raises:
            ValueError: ``max_workers`` is zero or negative.
        """
        super().__init__(is_async=is_async)
        self._max_workers = self._validate_max_workers(max_workers)

    def _get_required_workers_count(self, pipeline: Pipeline) -> int:
        # No more threads than the widest possible layer of concurrently runnable nodes.
        return min(self._widest_layer(pipeline), self._max_workers)

    def _create_executor(self, context: RunContext) -> NodeExecutor:
        workers = self._get_required_workers_count(context.pipeline)
        return ThreadExecutor(context.run_node, context.catalog.release, workers)

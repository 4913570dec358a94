"""``SequentialRunner``: one node at a time, in the calling thread, in topological order."""

from __future__ import annotations

from ductwork.runner.executors import InlineExecutor, NodeExecutor, RunContext
from ductwork.runner.loop import RunObserver
from ductwork.runner.runner import AbstractRunner

__all__ = ["SequentialRunner"]


class SequentialRunner(AbstractRunner):
    """Runs nodes one after another in the thread that called ``run()``.

    Nodes run exactly in the order of ``pipeline.nodes``. Nothing moves to another thread, so
    user code that must stay on the main thread is safe here.
    """

    def __init__(self, is_async: bool = False) -> None:
        """Create a sequential runner.

        Args:
            is_async: Load each node's inputs and save its outputs concurrently, on threads.
        """
        super().__init__(is_async=is_async)

    def _run(self, context: RunContext, observer: RunObserver) -> None:
        self._log_synchronous_mode()
        super()._run(context, observer)

    def _create_executor(self, context: RunContext) -> NodeExecutor:
        return InlineExecutor(context.run_node, context.catalog.release)

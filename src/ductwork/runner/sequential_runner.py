"""``SequentialRunner``: one node at a time, in the calling thread, in topological order."""

from __future__ import annotations

from ductwork.pipeline import Retry
from ductwork.runner.executors import NodeExecutor, RunContext
from ductwork.runner.inline_executor import InlineExecutor
from ductwork.runner.runner import AbstractRunner

__all__ = ["SequentialRunner"]


class SequentialRunner(AbstractRunner):
    """Runs nodes one after another in the thread that called ``run()``.

    Nodes run exactly in the order of ``pipeline.nodes``. Nothing moves to another thread, so
    user code that must stay on the main thread is safe here. A node past its time limit is
    interrupted where Python allows it (see :mod:`ductwork.execution.time_limits`).
    """

    _logs_synchronous_mode = True

    def __init__(
        self,
        is_async: bool = False,
        *,
        retry: Retry | None = None,
        timeout: float | None = None,
        keep_going: bool = False,
    ) -> None:
        """Create a sequential runner.

        Args:
            is_async: Load each node's inputs and save its outputs concurrently, on threads.
            retry, timeout, keep_going: How failing and slow nodes are treated (see
                :class:`~ductwork.runner.AbstractRunner`).
        """
        super().__init__(is_async, retry=retry, timeout=timeout, keep_going=keep_going)

    def _create_executor(self, context: RunContext) -> NodeExecutor:
        return InlineExecutor(context)

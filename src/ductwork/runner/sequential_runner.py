"""``SequentialRunner``: one node at a time, in the calling thread, in topological order.

Its executor, :class:`InlineExecutor`, runs each node when the loop asks for outcomes; time
limits interrupt the node where Python allows it (:func:`ductwork.execution.time_limits.interrupt`).
"""

from __future__ import annotations

from collections import deque

from ductwork.execution import NodeOutcome
from ductwork.pipeline import Node, Retry
from ductwork.runner.executors import InProcessExecutor, NodeExecutor, RunContext
from ductwork.runner.runner import AbstractRunner

__all__ = ["InlineExecutor", "SequentialRunner"]


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


class InlineExecutor(InProcessExecutor):
    """Runs each queued node in the calling thread when the loop asks for outcomes."""

    capacity = 1

    def __init__(self, context: RunContext) -> None:
        """Run the nodes of ``context``'s run."""
        super().__init__(context, context.shell)
        self._queue: deque[Node] = deque()

    def submit(self, node: Node) -> None:
        """Queue ``node``; it runs in the next call to :meth:`next_outcomes`."""
        self._queue.append(node)

    def next_outcomes(self) -> list[NodeOutcome]:
        """Run the queued node and return how it ended."""
        return [self._shell.run(self._queue.popleft(), self._catalog)]

    def __enter__(self) -> InlineExecutor:
        self._shell.__enter__()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._queue.clear()
        self._shell.__exit__()

"""The sequential runner's executor: each node runs in the calling thread, one at a time.

Time limits are enforced by interrupting the node where Python allows it (see
:func:`ductwork.execution.time_limits.interrupt`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Iterable

from ductwork.execution import NodeOutcome
from ductwork.pipeline import Node
from ductwork.runner.executors import RunContext

__all__ = ["InlineExecutor"]


class InlineExecutor:
    """Runs each queued node in the calling thread when the loop asks for outcomes."""

    capacity = 1

    def __init__(self, context: RunContext) -> None:
        """Run the nodes of ``context``'s run."""
        self._catalog = context.catalog
        self._shell = context.shell
        self._queue: deque[Node] = deque()

    def submit(self, node: Node) -> None:
        """Queue ``node``; it runs in the next call to :meth:`next_outcomes`."""
        self._queue.append(node)

    def next_outcomes(self) -> list[NodeOutcome]:
        """Run the queued node and return how it ended."""
        return [self._shell.run(self._queue.popleft(), self._catalog)]

    def release(self, names: Iterable[str]) -> None:
        """Release each dataset in the catalog."""
        release = self._catalog.release
        for name in names:
            release(name)

    def collect(self, names: Collection[str]) -> None:
        """Nothing to do: the nodes saved into the caller's catalog."""

    def __enter__(self) -> InlineExecutor:
        self._shell.__enter__()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._queue.clear()
        self._shell.__exit__()

"""The sequential runner's executor: each node runs in the calling thread, one at a time.

Time limits. Called on the main thread of a POSIX system, a node that runs past its limit is
interrupted: a ``SIGALRM`` timer raises :class:`~ductwork.exceptions.NodeTimeoutError` inside
it. That stops Python code and blocking calls that let signals through (``time.sleep``, socket
and pipe reads, lock waits); it cannot stop C code that does not return to Python until it is
done, and it takes over ``SIGALRM`` while the node runs. Anywhere else (another thread, Windows)
nothing can interrupt the node: it fails with ``NodeTimeoutError`` when it returns, before it
saves anything.
"""

from __future__ import annotations

import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from types import FrameType

from ductwork.exceptions import NodeTimeoutError
from ductwork.pipeline import Node
from ductwork.runner.context import RunContext
from ductwork.runner.executors import NodeOutcome, timed_run

__all__ = ["InlineExecutor"]

Checkpoint = Callable[[], None]


class InlineExecutor:
    """Runs each queued node in the calling thread when the loop asks for outcomes."""

    capacity = 1

    def __init__(self, context: RunContext) -> None:
        """Run the nodes of ``context``'s run."""
        self._context = context
        self._queue: deque[Node] = deque()
        self._run_node = context.run_node
        self._timeout_for = context.options.timeout_for

    def submit(self, node: Node) -> None:
        """Queue ``node``; it runs in the next call to :meth:`next_outcomes`."""
        self._queue.append(node)

    def next_outcomes(self) -> list[NodeOutcome]:
        """Run the queued node and return how it ended."""
        node = self._queue.popleft()
        seconds = self._timeout_for(node)
        if seconds is None:
            return [timed_run(self._run_node, node, "main")]
        with _time_limit(node, seconds) as checkpoint:
            return [timed_run(lambda n: self._run_node(n, checkpoint), node, "main")]

    def release(self, names: Iterable[str]) -> None:
        """Release each dataset in the catalog."""
        release = self._context.catalog.release
        for name in names:
            release(name)

    def collect(self, names: Collection[str]) -> None:
        """Nothing to do: the nodes saved into the caller's catalog."""

    def __enter__(self) -> InlineExecutor:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._queue.clear()


def timeout_error(node: Node, seconds: float, how: str) -> NodeTimeoutError:
    """The error of ``node`` running past ``seconds``; ``how`` says what became of it."""
    return NodeTimeoutError(
        f"Node '{node.name}' ran longer than its time limit of {seconds:g} s and {how}."
    )


@contextmanager
def _time_limit(node: Node, seconds: float) -> Iterator[Checkpoint]:
    deadline = time.monotonic() + seconds

    def checkpoint() -> None:
        if time.monotonic() > deadline:
            raise timeout_error(node, seconds, "was stopped before saving its outputs")

    can_interrupt = hasattr(signal, "setitimer") and (
        threading.current_thread() is threading.main_thread()
    )
    if not can_interrupt:
        yield checkpoint
        return
    armed = True

    def on_alarm(_signum: int, _frame: FrameType | None) -> None:
        if armed:  # the node may have returned while the signal was on its way
            raise timeout_error(node, seconds, "was interrupted")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield checkpoint
    finally:
        armed = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)

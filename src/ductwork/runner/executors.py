"""Where nodes run: the executors the run loop drives.

An executor takes nodes (:meth:`NodeExecutor.submit`) and reports them finished
(:meth:`NodeExecutor.next_outcomes`); the run loop never learns how. ``capacity`` is how many
nodes may be in flight at once: the loop hands out no more, so work never queues inside an
executor, ready nodes start in the scheduler's order, and stopping only has to deal with the
nodes that are actually running.

This module holds the two in-process executors. The process and Dask runners bring their own.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Collection, Iterable
from concurrent.futures import Executor
from dataclasses import dataclass
from types import TracebackType
from typing import NamedTuple, Protocol

from ductwork.execution import run_node
from ductwork.hooks.manager import HookCaller
from ductwork.io import CatalogProtocol
from ductwork.pipeline import Node, Pipeline

__all__ = [
    "InlineExecutor",
    "NodeExecutor",
    "NodeOutcome",
    "RunContext",
    "ThreadExecutor",
]

RunNode = Callable[[Node], None]


@dataclass(frozen=True)
class RunContext:
    """What one run gives its executor."""

    pipeline: Pipeline
    catalog: CatalogProtocol
    hooks: HookCaller
    run_id: str
    is_async: bool
    io_pool: Executor | None
    """The threads for asynchronous loads and saves in this process (None when synchronous)."""

    def run_node(self, node: Node) -> None:
        """Run ``node`` in this process, against the run's catalog, with the run's hooks."""
        run_node(node, self.catalog, self.hooks, run_id=self.run_id, io_pool=self.io_pool)


class NodeOutcome(NamedTuple):
    """How one node's run ended, and when and where it ran (times in seconds since the epoch)."""

    node: Node
    error: BaseException | None
    started: float
    finished: float
    worker: str


def timed_run(run_node: RunNode, node: Node, worker: str) -> NodeOutcome:
    """Run ``node``, catching its error, and time it (wall clock, seconds since the epoch)."""
    started = time.time()
    try:
        run_node(node)
    except Exception as error:
        return NodeOutcome(node, error, started, time.time(), worker)
    return NodeOutcome(node, None, started, time.time(), worker)


class NodeExecutor(Protocol):
    """What the run loop needs of an executor.

    Used as a context manager: entering starts the workers, leaving stops them. Leaving because
    of an exception (a failure, ``KeyboardInterrupt``) must not wait for work that has not
    started, and must stop workers that can be stopped.
    """

    @property
    def capacity(self) -> int:
        """How many nodes may be in flight at once."""
        ...

    def submit(self, node: Node) -> None:
        """Start running ``node`` (or queue it to start at the next :meth:`next_outcomes`)."""
        ...

    def next_outcomes(self) -> list[NodeOutcome]:
        """Block until at least one submitted node has finished; return all that have."""
        ...

    def release(self, names: Iterable[str]) -> None:
        """Free the data of datasets no remaining node will load."""
        ...

    def collect(self, names: Collection[str]) -> None:
        """After a successful run: put the data of the free outputs ``names`` in the caller's
        catalog, if this executor kept it elsewhere (in worker memory, on a cluster)."""
        ...

    def __enter__(self) -> NodeExecutor: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class InlineExecutor:
    """Runs each node in the calling thread, one at a time, when the loop asks for outcomes.

    User code that must stay on the main thread (GUI toolkits, some Spark and matplotlib set-ups)
    is therefore safe under the sequential runner.
    """

    capacity = 1

    def __init__(self, run_node: RunNode, release: Callable[[str], None]) -> None:
        """Run nodes with ``run_node``; free datasets with ``release``."""
        self._run_node = run_node
        self._release = release
        self._queue: deque[Node] = deque()

    def submit(self, node: Node) -> None:
        """Queue ``node``; it runs in the next call to :meth:`next_outcomes`."""
        self._queue.append(node)

    def next_outcomes(self) -> list[NodeOutcome]:
        """Run the queued node and return how it ended."""
        return [timed_run(self._run_node, self._queue.popleft(), "main")]

    def release(self, names: Iterable[str]) -> None:
        """Release each dataset in the catalog."""
        for name in names:
            self._release(name)

    def collect(self, names: Collection[str]) -> None:
        """Nothing to do: the nodes saved into the caller's catalog."""

    def __enter__(self) -> InlineExecutor:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._queue.clear()


class ThreadExecutor:
    """Runs nodes on worker threads that take them from a queue and report through another.

    The threads are started when the ``with`` block is entered and joined when it is left. A
    thread cannot be stopped from outside: when the run stops early, nodes not yet taken are
    dropped and nodes already running finish their current call, so that no node is still
    writing to the catalog after ``run()`` has returned or raised.
    """

    def __init__(self, run_node: RunNode, release: Callable[[str], None], max_workers: int) -> None:
        """Prepare ``max_workers`` threads."""
        self.capacity = max_workers
        self._run_node = run_node
        self._release = release
        self._tasks: queue.SimpleQueue[Node | None] = queue.SimpleQueue()
        self._outcomes: queue.SimpleQueue[NodeOutcome] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []

    def submit(self, node: Node) -> None:
        """Hand ``node`` to the next free thread."""
        self._tasks.put(node)

    def _work(self) -> None:
        worker = threading.current_thread().name
        while (node := self._tasks.get()) is not None:
            try:
                outcome = timed_run(self._run_node, node, worker)
            except BaseException as error:  # SystemExit and the like: still report the node
                outcome = NodeOutcome(node, error, time.time(), time.time(), worker)
            self._outcomes.put(outcome)

    def next_outcomes(self) -> list[NodeOutcome]:
        """Wait for the next finished node; return it with any others that finished meanwhile."""
        outcomes = [self._outcomes.get()]
        while not self._outcomes.empty():
            outcomes.append(self._outcomes.get_nowait())
        return outcomes

    def release(self, names: Iterable[str]) -> None:
        """Release each dataset in the catalog."""
        for name in names:
            self._release(name)

    def collect(self, names: Collection[str]) -> None:
        """Nothing to do: the nodes saved into the caller's catalog."""

    def __enter__(self) -> ThreadExecutor:
        for number in range(self.capacity):
            thread = threading.Thread(target=self._work, name=f"ductwork-{number}")
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(self, *_exc: object) -> None:
        while True:  # drop what no thread has taken yet
            try:
                self._tasks.get_nowait()
            except queue.Empty:
                break
        for _ in self._threads:
            self._tasks.put(None)
        for thread in self._threads:
            thread.join()
        self._threads.clear()

"""``ThreadRunner``: independent nodes at the same time, on a pool of threads.

Threads suit nodes that wait (on files, networks, databases, or native code that releases the
GIL). All threads share one catalog, which is safe to use from many threads at once. Unlike
Kedro's, this runner supports ``is_async=True``: loads and saves then also run concurrently, on
a separate pool of I/O threads.

Its executor, :class:`ThreadExecutor`, has daemon threads take nodes from one queue and report
them through another. A running thread cannot be stopped from outside, so stopping is
cooperative and, past a point, by abandonment:

- Each node has a ``stop`` event (its own if it has a time limit, else the run's). Once set, the
  node does not start another attempt and saves nothing: its next checkpoint raises.
- A node with a time limit runs on a helper thread of its own
  (:func:`~ductwork.execution.time_limits.abandoning`): at the limit it is reported failed with
  ``NodeTimeoutError``, the helper is abandoned (it finishes the call in the background, saves
  nothing, and ends), and the worker thread goes on with the next node, so the run keeps its
  worker count.
- When the run ends early (a failure, Ctrl-C), queued nodes are dropped, running ones are told
  to stop, and the executor waits ``grace`` seconds at most for them before it abandons them.
  An abandoned daemon thread never keeps the interpreter from exiting.
"""

from __future__ import annotations

import queue
import threading
import time

from ductwork.execution import NodeOutcome
from ductwork.execution.time_limits import abandoning
from ductwork.pipeline import Node, Retry
from ductwork.runner.executors import InProcessExecutor, NodeExecutor, RunContext
from ductwork.runner.runner import AbstractRunner

__all__ = ["ThreadExecutor", "ThreadRunner"]


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


class ThreadExecutor(InProcessExecutor):
    """Runs nodes on ``max_workers`` daemon threads."""

    def __init__(self, context: RunContext, max_workers: int, grace: float = 2.0) -> None:
        """Prepare ``max_workers`` threads for the nodes of ``context``'s run.

        Args:
            context: The run.
            max_workers: How many threads (and nodes in flight).
            grace: Seconds to wait for running nodes when the run ends early.
        """
        super().__init__(context, context.shell.enforcing(abandoning))
        self.capacity = max_workers
        self._grace = grace
        self._tasks: queue.SimpleQueue[tuple[Node, threading.Event] | None] = queue.SimpleQueue()
        self._outcomes: queue.SimpleQueue[NodeOutcome] = queue.SimpleQueue()
        self._stop = threading.Event()  # the run is ending: no node saves anything more
        self._running: dict[Node, threading.Event] = {}  # only the calling thread touches this
        self._threads: list[threading.Thread] = []

    def submit(self, node: Node) -> None:
        """Hand ``node`` to the next free thread."""
        # Only a node with a time limit is stopped alone; the others stop with the run (an
        # Event per node would cost a node without a time limit more than its shell).
        timed = self._shell.policy(node).timeout is not None
        stop = threading.Event() if timed else self._stop
        self._running[node] = stop
        self._tasks.put((node, stop))

    def _work(self) -> None:
        worker = threading.current_thread().name
        while (task := self._tasks.get()) is not None:
            node, stop = task
            outcome = self._shell.run(
                node, self._catalog, worker=worker, stop=stop, contain_exits=True
            )
            self._outcomes.put(outcome)

    def next_outcomes(self) -> list[NodeOutcome]:
        """Wait for finished nodes (a node past its time limit has failed); report them."""
        outcomes = [self._outcomes.get()]
        while not self._outcomes.empty():
            outcomes.append(self._outcomes.get_nowait())
        for outcome in outcomes:
            del self._running[outcome.node]
        return outcomes

    def __enter__(self) -> ThreadExecutor:
        self._shell.__enter__()
        for number in range(self.capacity):
            thread = threading.Thread(target=self._work, name=f"ductwork-{number}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_exc: object) -> None:
        while True:  # drop what no thread has taken yet
            try:
                self._tasks.get_nowait()
            except queue.Empty:
                break
        self._stop.set()
        for stop in self._running.values():
            stop.set()
        for _ in self._threads:
            self._tasks.put(None)
        # A normal end has nothing running: wait for the threads to leave. An early end waits
        # at most `grace` seconds in all for nodes still in their function.
        deadline = None if exc_type is None else time.monotonic() + self._grace
        for thread in self._threads:
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        self._threads.clear()
        # Abandoned threads may still load or save: an early end does not wait for them.
        self._shell.close(wait=exc_type is None)

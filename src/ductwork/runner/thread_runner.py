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
- A node past its time limit is reported failed with ``NodeTimeoutError`` at once; its thread is
  abandoned (it finishes the call in the background, saves nothing, and ends) and a fresh
  thread takes its place, so the run keeps its worker count.
- When the run ends early (a failure, Ctrl-C), queued nodes are dropped, running ones are told
  to stop, and the executor waits ``grace`` seconds at most for them before it abandons them.
  An abandoned daemon thread never keeps the interpreter from exiting.
"""

from __future__ import annotations

import queue
import threading
import time

from ductwork.execution import NodeOutcome
from ductwork.execution.time_limits import timeout_error, watched
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


class _Assignment:
    """One node handed to the threads, with what it takes to stop it."""

    def __init__(self, node: Node, timeout: float | None, run_stop: threading.Event) -> None:
        self.node = node
        self.timeout = timeout
        self.started = time.time()
        self.deadline = None if timeout is None else time.monotonic() + timeout
        # Only a node with a time limit can be stopped alone; the others stop with the run
        # (an Event per node would cost a node without a time limit more than its shell).
        self.stop = run_stop if timeout is None else threading.Event()
        self.worker = "?"  # the name of the thread that took the node
        self._settled = False
        self._lock = threading.Lock()

    def take(self, worker: str) -> bool:
        """Record the thread starting the node; False if the node already timed out."""
        with self._lock:
            if not self._settled:
                self.worker = worker
            return not self._settled

    def settle(self) -> bool:
        """Claim the right to report this node; True for the first caller only."""
        with self._lock:
            first, self._settled = not self._settled, True
            return first


class ThreadExecutor(InProcessExecutor):
    """Runs nodes on ``max_workers`` daemon threads."""

    def __init__(self, context: RunContext, max_workers: int, grace: float = 2.0) -> None:
        """Prepare ``max_workers`` threads for the nodes of ``context``'s run.

        Args:
            context: The run.
            max_workers: How many threads (and nodes in flight).
            grace: Seconds to wait for running nodes when the run ends early.
        """
        # This executor watches the time limits itself (see _expire_overdue).
        super().__init__(context, context.shell.enforcing(watched))
        self.capacity = max_workers
        self._grace = grace
        self._tasks: queue.SimpleQueue[_Assignment | None] = queue.SimpleQueue()
        self._outcomes: queue.SimpleQueue[NodeOutcome] = queue.SimpleQueue()
        self._stop = threading.Event()  # the run is ending: no node saves anything more
        self._running: dict[Node, _Assignment] = {}  # only the calling thread touches this
        self._threads: dict[str, threading.Thread] = {}  # by name; abandoned ones are removed
        self._spawned = 0

    def submit(self, node: Node) -> None:
        """Hand ``node`` to the next free thread."""
        task = _Assignment(node, self._shell.policy(node).timeout, self._stop)
        self._running[node] = task
        self._tasks.put(task)

    def _work(self) -> None:
        worker = threading.current_thread().name
        while (task := self._tasks.get()) is not None:
            if not task.take(worker):
                continue  # it timed out before any thread was free: nothing to run
            outcome = self._shell.run(
                task.node, self._catalog, worker=worker, stop=task.stop, contain_exits=True
            )
            if not task.settle():
                return  # abandoned past its time limit: a new thread has taken this one's place
            self._outcomes.put(outcome)

    def next_outcomes(self) -> list[NodeOutcome]:
        """Wait for finished nodes, or for the next time limit to pass; report what ended."""
        while True:
            try:
                first = self._outcomes.get(timeout=self._time_to_next_deadline())
            except queue.Empty:
                expired = self._expire_overdue()
                if expired:
                    return expired
                continue
            outcomes = [first]
            while not self._outcomes.empty():
                outcomes.append(self._outcomes.get_nowait())
            for outcome in outcomes:
                del self._running[outcome.node]
            return outcomes

    def _time_to_next_deadline(self) -> float | None:
        deadlines = [t.deadline for t in self._running.values() if t.deadline is not None]
        return max(0.0, min(deadlines) - time.monotonic()) if deadlines else None

    def _expire_overdue(self) -> list[NodeOutcome]:
        now, expired = time.monotonic(), []
        for task in list(self._running.values()):
            if task.deadline is not None and task.deadline <= now and task.settle():
                task.stop.set()
                del self._running[task.node]
                self._threads.pop(task.worker, None)
                self._start_thread()
                error = timeout_error(
                    task.node,
                    task.timeout or 0.0,
                    "was abandoned: a thread cannot be stopped, "
                    "so it finishes in the background and saves nothing",
                )
                outcome = NodeOutcome.ended(task.node, error, task.started, task.worker)
                expired.append(outcome)
        return expired

    def _start_thread(self) -> None:
        name = f"ductwork-{self._spawned}"
        self._spawned += 1
        thread = threading.Thread(target=self._work, name=name, daemon=True)
        thread.start()
        self._threads[name] = thread

    def __enter__(self) -> ThreadExecutor:
        self._shell.__enter__()
        for _ in range(self.capacity):
            self._start_thread()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_exc: object) -> None:
        while True:  # drop what no thread has taken yet
            try:
                self._tasks.get_nowait()
            except queue.Empty:
                break
        self._stop.set()
        for task in self._running.values():
            task.stop.set()
        for _ in self._threads:
            self._tasks.put(None)
        # A normal end has nothing running: wait for the threads to leave. An early end waits
        # at most `grace` seconds in all for nodes still in their function.
        deadline = None if exc_type is None else time.monotonic() + self._grace
        for thread in self._threads.values():
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        self._threads.clear()
        # Abandoned threads may still load or save: an early end does not wait for them.
        self._shell.close(wait=exc_type is None)

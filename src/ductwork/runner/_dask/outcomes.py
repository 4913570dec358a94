"""Node outcomes of a Dask run, as the workers report them: events, not tasks.

A node's task leaves its outcome (when and where it ran, skipped or not, its metrics) to the run's
worker plugin, which sends it as an event of its worker
(:data:`~ductwork.runner._dask.events.OUTCOMES_TOPIC`) in the message that reports the task
finished, just before that report: the client has it when it learns the task is done, with no
task of its own and no fetch of the node's data. While Dask has the nodes ahead of the loop, a
worker with more tasks to run holds outcomes for a few milliseconds and sends them together:
each event costs a local scheduler's thread as much as a small task. A client has one handler
per topic, so one subscription per client serves every run on it, routed by the run's plugin
name.

A node whose task failed or was cancelled is reported with :func:`task_error`: its own error,
or one that names what the cluster did (a lost worker, a cancellation).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

from distributed import CancelledError, Client, Future, KilledWorker

from ductwork.exceptions import RunnerError, WorkerLostError
from ductwork.execution import NodeOutcome
from ductwork.pipeline import Node
from ductwork.runner._dask.events import OUTCOMES_TOPIC, event_failed, outcome_from_event
from ductwork.runner._dask.worker import LOGS_TOPIC

__all__ = ["Outcomes", "task_error"]


class Outcomes:
    """The outcomes of one run's nodes, as the workers report them (events, not tasks).

    A worker sends a node's outcome just before it reports the node's task finished, in the same
    message, or, busy with more of the run's tasks while Dask has the nodes ahead of the loop,
    with the next outcomes a few milliseconds later: one event for several. So the outcome is
    normally here when the task's future is, or soon after; a short wait covers that, and the
    client's own view of the node stands in if it never comes.
    """

    _WAIT = 5.0  # seconds to wait for a finished node's outcome

    def __init__(self) -> None:
        self._messages: dict[str, list[Any]] = {}
        self._fresh: list[str] = []  # the nodes whose outcomes came since arrived() last asked
        self._arrived = threading.Condition()
        self._waking = True  # whether an outcome wakes the thread waiting for one

    @contextmanager
    def listening(self, client: Client, run: str) -> Iterator[None]:
        """Receive the outcomes of the run whose plugin is named ``run``, while in the block."""
        with _subscription(client, run, self.receive):
            yield

    def receive(self, messages: list[list[Any]]) -> None:
        """Take the outcomes ``messages`` (an event of :data:`OUTCOMES_TOPIC`)."""
        with self._arrived:
            for message in messages:
                self._messages[str(message[1])] = message
                self._fresh.append(str(message[1]))
            if self._waking:
                self._arrived.notify_all()

    def arrived(self, timeout: float, wake: bool = True) -> list[str]:
        """The nodes whose outcomes came since the last call; waits up to ``timeout`` for one.

        Without ``wake``, none came yet, it waits the whole ``timeout`` and takes what came
        meanwhile: the client's thread that receives outcomes also runs a local cluster's
        scheduler, and waking the waiting thread for each outcome makes both wait their turn.
        """
        with self._arrived:
            if not self._fresh and not wake:
                self._waking = False
                self._arrived.wait(timeout)
                self._waking = True
            self._arrived.wait_for(lambda: self._fresh, timeout if wake else 0)
            fresh, self._fresh = self._fresh, []
        return fresh

    def succeeded(self, name: str, future: Future[Any] | None) -> bool:
        """Whether node ``name`` succeeded: as its outcome says, else as its task's ``future``
        does (its outcome may then still be on its way)."""
        with self._arrived:
            message = self._messages.get(name)
        if message is None:
            return future is not None and future.status == "finished"
        return not event_failed(message)

    def outcome(
        self, node: Node, error: BaseException | None, submitted: float, wait: bool = True
    ) -> NodeOutcome:
        """``node``'s outcome with ``error``: as its worker reported it, or as seen from here."""
        with self._arrived:
            if wait:
                self._arrived.wait_for(lambda: node.name in self._messages, self._WAIT)
            message = self._messages.pop(node.name, None)
        if message is None:  # a task that never ran (cancelled, its worker lost, unpicklable)
            return NodeOutcome(node, error, submitted, time.time(), "dask")
        return outcome_from_event(message, node, error)


def task_error(node: Node, future: Future[Any]) -> BaseException:
    """The exception to report for ``node``, whose task's ``future`` failed or was cancelled:
    the node's own error with its worker's traceback, or one that says what Dask did."""
    if future.status == "cancelled":
        return RunnerError(
            f"Node '{node.name}' was cancelled on the Dask cluster ({CancelledError(future.key)})."
            " Check that the scheduler is still running and reachable, and run again."
        )
    error, traceback = future.exception(), future.traceback()
    assert isinstance(error, BaseException)
    if isinstance(error, KilledWorker):
        lost = WorkerLostError(
            f"Node '{node.name}': the Dask workers running it died ({error}). It may use more "
            "memory than a worker has, or crash the interpreter; the workers' logs say more."
        )
        lost.__cause__ = error
        return lost
    return error.with_traceback(traceback) if traceback is not None else error


# One subscription per client to the topic of node outcomes, shared by every run on that client
# and routed by run: a client has one handler per topic.
_routes: dict[str, Callable[[list[list[Any]]], None]] = {}
_subscribers: dict[str, int] = {}
_routes_lock = threading.Lock()


def _route(event: tuple[float, list[list[Any]]]) -> None:
    _timestamp, messages = event  # outcomes of one run
    receive = _routes.get(messages[0][0]) if messages else None
    if receive is not None:
        receive(messages)


def _log(event: tuple[float, dict[str, Any]]) -> None:
    """Hand a worker's log record (:data:`LOGS_TOPIC`) to the logger of its name here."""
    record = logging.makeLogRecord(event[1])
    logging.getLogger(record.name).handle(record)


@contextmanager
def _subscription(
    client: Client, run: str, receive: Callable[[list[list[Any]]], None]
) -> Iterator[None]:
    with _routes_lock:
        _routes[run] = receive
        first = _subscribers.get(client.id, 0) == 0
        _subscribers[client.id] = _subscribers.get(client.id, 0) + 1
    if first:
        client.subscribe_topic(OUTCOMES_TOPIC, _route)
        client.subscribe_topic(LOGS_TOPIC, _log)
    try:
        yield
    finally:
        with _routes_lock:
            _routes.pop(run, None)
            _subscribers[client.id] -= 1
            last = _subscribers[client.id] == 0
            if last:
                del _subscribers[client.id]
        if last:
            with suppress(Exception):  # a lost cluster must not hide the run's own error
                client.unsubscribe_topic(OUTCOMES_TOPIC)
                client.unsubscribe_topic(LOGS_TOPIC)

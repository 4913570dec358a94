"""The worker processes of one run: starting them, listening to them, stopping them.

The parent listens with :func:`multiprocessing.connection.wait` on every worker's pipe *and* on
its process sentinel, so a worker that dies (a signal, the out-of-memory killer, a crash in
native code) is noticed at once instead of being waited for forever. Log records are handed to
the parent's loggers as they arrive; everything else goes to the caller as :class:`Event`.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import threading
import time
from collections.abc import Callable
from multiprocessing import resource_tracker
from multiprocessing.context import BaseContext
from typing import Any

from ductwork.exceptions import RunnerError
from ductwork.runner.processes import transport
from ductwork.runner.processes.handle import Event, Watch, WorkerHandle
from ductwork.runner.processes.protocol import (
    FAILED_START,
    READY,
    NodeTable,
    Setup,
    unpack_error,
)
from ductwork.runner.processes.server import ensure_fork_server
from ductwork.runner.processes.worker import STOP_SIGNAL
from ductwork.runner.processes.worker import main as worker_main

__all__ = ["Pool"]

_RELAYED = [getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n)]
_STOP_TIMEOUT = 10.0  # seconds a stopped worker has to exit before it is killed
_KILL_TIMEOUT = 2.0  # seconds a terminated worker has to exit before SIGKILL


class Pool:
    """Starts, listens to and stops the worker processes of one run."""

    def __init__(self, context: BaseContext) -> None:
        self._context = context
        self.workers: list[WorkerHandle] = []
        self._setup: Callable[[int], Setup] | None = None
        self._then: NodeTable | None = None  # sent to every worker after its set-up
        self._next_index = 0  # never reused: a worker's index is part of its segment names
        self._relayed: dict[int, tuple[Any, Any]] = {}  # signal: (its handler, the relay)
        self._waiting = False  # in wait(): an interrupt may be raised at once
        self._deferred: Callable[[], Any] | None = None  # an interrupt put off until then
        self._watch = Watch()

    def start(
        self,
        count: int,
        setup: Callable[[int], Setup],
        then: Callable[[], NodeTable] | None = None,
    ) -> None:
        """Start ``count`` workers, send each its set-up, then what ``then`` returns (made while
        they set themselves up; a worker that replaces one is sent it too), and wait until all
        are ready.

        Raises:
            RunnerError: A worker could not set itself up (the cause says why).
            WorkerLostError: A worker died while starting.
        """
        if transport.SHARED_MEMORY:
            # Workers then share the parent's tracker, whatever the start method.
            resource_tracker.ensure_running()
        if self._context.get_start_method() == "forkserver":
            ensure_fork_server(worker_main.__module__)
        self._setup = setup
        for _ in range(count):  # each sets itself up while the next one is forked
            worker = self._spawn()
            self.workers.append(worker)
            worker.send(setup(worker.index))
        if then is not None:  # the parent's own preparation, while they set themselves up
            self._then = then()
            for worker in self.workers:
                worker.send(self._then)
        self._await_ready()
        self._relay_signals()

    def _relay_signals(self) -> None:
        """Until :meth:`kill`, tell the workers of Ctrl-C (and SIGTERM, SIGHUP where this
        process handles them) before this process's own handler runs: a worker then begins no
        further node, even one sent ahead, whatever that handler does first. The handler (which
        raises ``KeyboardInterrupt``) runs at once if this process waits for the workers, else
        when it next does: a message read half, or read and not yet taken in, would be lost."""
        if STOP_SIGNAL is None or threading.current_thread() is not threading.main_thread():
            return  # signal handlers can be set in the main thread only
        for number in _RELAYED:
            previous = signal.getsignal(number)
            if callable(previous):
                relay = functools.partial(self._relay, previous)
                self._relayed[number] = (previous, relay)
                signal.signal(number, relay)

    def _relay(self, previous: Callable[[int, Any], Any], number: int, frame: Any) -> None:
        for worker in self.workers:
            if worker.alive and STOP_SIGNAL is not None:
                with contextlib.suppress(OSError):
                    os.kill(worker.process.pid, STOP_SIGNAL)
        if self._waiting or self._deferred is not None:  # a second one is not put off
            self._deferred = None
            previous(number, frame)
        else:  # busy with what the workers said: their messages are taken in whole first
            self._deferred = functools.partial(previous, number, frame)

    def _deliver_deferred(self) -> None:
        deferred, self._deferred = self._deferred, None
        if deferred is not None:
            deferred()

    def _restore_signals(self) -> None:
        for number, (previous, relay) in self._relayed.items():
            if signal.getsignal(number) is relay:  # not if someone replaced it since
                signal.signal(number, previous)
        self._relayed.clear()
        self._deliver_deferred()  # the run ends: an interrupt put off is raised now

    def replace(self, worker: WorkerHandle) -> WorkerHandle:
        """Kill ``worker`` (if it still runs) and start a new one in its place.

        The new worker is not waited for: its ``READY`` message arrives through :meth:`events`
        like any other, so no message of the other workers is held up or lost meanwhile.
        """
        assert self._setup is not None, "replace() before start()"
        self._finish(worker)
        self.workers.remove(worker)
        fresh = self._spawn()
        self.workers.append(fresh)
        fresh.send(self._setup(fresh.index))
        if self._then is not None:
            fresh.send(self._then)
        return fresh

    def _spawn(self) -> WorkerHandle:
        index, self._next_index = self._next_index, self._next_index + 1
        parent_end, child_end = self._context.Pipe(duplex=True)
        inherited: list[int] = []
        if self._context.get_start_method() == "fork":
            inherited = [w.conn.fileno() for w in self.workers] + [parent_end.fileno()]
        process = self._context.Process(  # type: ignore[attr-defined]
            target=worker_main, args=(child_end, inherited, os.getpid()), name=f"ductwork-{index}"
        )
        process.start()
        child_end.close()
        return WorkerHandle(index, process, parent_end)

    def _await_ready(self) -> None:
        waiting = set(self.workers)
        while waiting:
            for event in self.events():
                if event.message is None:
                    raise event.worker.lost_error(starting=True)
                if event.message[0] == FAILED_START:
                    raise _start_error(event.worker, event.message[1])
                if event.message[0] == READY:
                    event.worker.ready = True
                    waiting.discard(event.worker)

    def events(self, timeout: float | None = None) -> list[Event]:
        """Wait for messages or deaths; forward log records; return the rest, in order."""
        events = self._inboxes()
        if events:
            timeout = 0.0  # what the others said meanwhile, without waiting
        self._waiting = True
        try:
            self._deliver_deferred()  # an interrupt that came while busy (see _relay)
            found = self._watch.wait(self.workers, timeout)
        finally:
            self._waiting = False
        for worker, is_pipe in found:
            if is_pipe:
                # Everything it has said so far, without another wait per message.
                while worker.read(events) and worker.has_data():
                    pass
            elif worker.alive:
                while not worker.closed and worker.has_data():  # what it said before it died
                    worker.read(events)  # comes first
                worker.alive = False
                events.append(Event(worker, None))
        return events

    def time_to_next_deadline(self) -> float | None:
        """Seconds until the first worker's node overruns its time limit (None: none has one)."""
        deadlines = [w.deadline for w in self.workers if w.deadline is not None]
        return max(0.0, min(deadlines) - time.monotonic()) if deadlines else None

    def pending(self) -> list[Event]:
        """The messages already in the workers' pipes, read without waiting (deaths are not
        looked for); a pipe whose last read was cut short is left alone."""
        events = self._inboxes()
        for worker in self.workers:
            while worker.alive and not (worker.closed or worker.torn) and worker.has_data():
                worker.read(events)
        return events

    def _inboxes(self) -> list[Event]:
        """What the workers said while the parent wrote to them (see :mod:`.handle`), and the
        messages read but not taken yet (an exception, say from a log handler, cut that short)."""
        events: list[Event] = []
        for worker in self.workers:
            if worker.inbox:
                events += worker.inbox
                worker.inbox.clear()
            worker.split(events)
        return events

    def stop(self) -> None:
        """Ask every worker to finish and wait for them; kill those that do not exit in time."""
        for worker in self.workers:
            if worker.alive:
                worker.send(None)
        deadline = time.monotonic() + _STOP_TIMEOUT
        while any(w.alive for w in self.workers) and time.monotonic() < deadline:
            self.events(max(0.0, deadline - time.monotonic()))  # marks the workers that ended
        self.kill()

    def halt(self) -> None:
        """Terminate every worker still running, without waiting: none begins another node (what
        they wrote before stays readable)."""
        for worker in self.workers:
            if worker.process.is_alive():
                worker.process.terminate()

    def kill(self) -> None:
        """Terminate every worker still running (SIGKILL if SIGTERM is not enough); reap all."""
        self.halt()
        deadline = time.monotonic() + _KILL_TIMEOUT
        for worker in self.workers:
            self._finish(worker, deadline)
        self.workers.clear()
        self._restore_signals()

    @staticmethod
    def _finish(worker: WorkerHandle, deadline: float | None = None) -> None:
        """Terminate ``worker`` if it runs (SIGKILL if it lingers), reap it, close its pipe."""
        if worker.process.is_alive():
            worker.process.terminate()
        if deadline is None:
            deadline = time.monotonic() + _KILL_TIMEOUT
        worker.process.join(max(0.0, deadline - time.monotonic()))
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join()
        worker.alive = False
        worker.conn.close()
        worker.process.close()


def _start_error(worker: WorkerHandle, packed: Any) -> RunnerError:
    cause = unpack_error(packed)
    error = RunnerError(
        f"Worker process {worker.process.pid} could not set itself up: "
        f"{type(cause).__name__}: {cause}. A worker imports the modules of the datasets and hook "
        "plugins it receives: make sure they are importable in a new Python process (on "
        "sys.path, not only defined in an interactive session)."
    )
    error.__cause__ = cause
    return error

"""Node functions and data types for the Dask runner's own tests (importable on workers)."""

from __future__ import annotations

import os
from typing import Any

from distributed.diagnostics.plugin import SchedulerPlugin

from tests.runner.helpers import _append


def worker_pid(_x: Any) -> int:
    """The pid of the process running the node."""
    return os.getpid()


def report_pid_then_wait(x: Any, pid_fifo: str, go_fifo: str) -> Any:
    """Write this process's pid to ``pid_fifo``, then block until someone writes to ``go_fifo``.

    Both are named pipes: each open blocks until the other side opens, so the test and the
    node meet without polling.
    """
    with open(pid_fifo, "w") as fifo:
        fifo.write(f"{os.getpid()}\n")
    with open(go_fifo) as fifo:
        fifo.read()
    return x


class Tracked:
    """A value that records, in a log file, every process that unpickles or copies it."""

    def __init__(self, tag: str, log: str, payload: Any = None) -> None:
        self.tag, self.log, self.payload = tag, log, payload

    def __reduce__(self) -> tuple[Any, tuple[str, str, Any]]:
        return (_arrive, (self.tag, self.log, self.payload))


def _arrive(tag: str, log: str, payload: Any) -> Tracked:
    _append(log, tag=tag)
    return Tracked(tag, log, payload)


def relabel(value: Tracked, tag: str) -> Tracked:
    """A new tracked value with ``tag``, carrying ``value``'s payload on."""
    return Tracked(tag, value.log, value.payload)


class TaskRecorder(SchedulerPlugin):
    """A scheduler plugin recording, for each task of a ductwork run (first part of its key),
    the tasks it depends on, the workers holding its result when it reached memory, and
    whether a client wanted it then (held a future of it).

    It records as the scheduler works, so what it says does not depend on when a test asks:
    the run lets go of its keys as soon as it can.
    """

    name = "ductwork-test-task-recorder"

    def __init__(self) -> None:
        self.dependencies: dict[str, set[str]] = {}
        self.held_by: dict[str, set[str]] = {}
        self.wanted: dict[str, bool] = {}
        self._scheduler: Any = None

    async def start(self, scheduler: Any) -> None:
        self._scheduler = scheduler

    def transition(self, key: Any, start: str, finish: str, *args: Any, **kwargs: Any) -> None:
        if not (isinstance(key, tuple) and str(key[0]).startswith(("node:", "data:"))):
            return
        task = self._scheduler.tasks.get(key)
        if task is None:
            return
        name = str(key[0])
        if finish in ("waiting", "queued", "processing", "no-worker"):
            self.dependencies.setdefault(name, {str(d.key[0]) for d in task.dependencies})
        if finish == "memory":
            self.held_by[name] = {worker.address for worker in task.who_has or ()}
            self.wanted[name] = bool(task.who_wants)


def task_records(dask_scheduler: Any) -> tuple[Any, Any, Any]:
    """On the scheduler: what its :class:`TaskRecorder` recorded (dependencies, held by,
    wanted)."""
    recorder = dask_scheduler.plugins[TaskRecorder.name]
    return recorder.dependencies, recorder.held_by, recorder.wanted

"""Node functions and data types for the Dask runner's own tests (importable on workers)."""

from __future__ import annotations

import os
from typing import Any

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

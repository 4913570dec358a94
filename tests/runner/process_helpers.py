"""Node functions, datasets and plugins for the ParallelRunner tests.

They are importable by module path, so worker processes find them whatever the start method;
they report through files, FIFOs and return values, never through shared Python state.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Collection
from typing import Any

import numpy as np
import psutil

from ductwork.hooks import hook_impl
from ductwork.io import AbstractDataset

HELPERS = ["forkserver", "resource_tracker"]  # long-lived helper processes, not workers


def descendants() -> set[int]:
    """The pids of every process this one started, directly or not (to ignore later)."""
    return {child.pid for child in psutil.Process().children(recursive=True)}


def live_workers(ignore: Collection[int] = ()) -> list[psutil.Process]:
    """Descendants of this process other than multiprocessing's helpers, zombies, and ``ignore``
    (processes that were there before, such as the test session's Dask cluster)."""
    found = []
    for child in psutil.Process().children(recursive=True):
        if child.pid in ignore:
            continue
        try:
            if child.status() == psutil.STATUS_ZOMBIE:
                continue
            command = " ".join(child.cmdline())
        except psutil.NoSuchProcess:
            continue
        if not any(helper in command for helper in HELPERS):
            found.append(child)
    return found


def segments(pid: int | None = None) -> list[str]:
    """Shared-memory segments of runs whose parent is ``pid`` (this process by default)."""
    prefix = f"dw{os.getpid() if pid is None else pid}_"
    return sorted(name for name in os.listdir("/dev/shm") if name.startswith(prefix))


def array(n: int) -> Any:
    return np.ones(n)


def describe_buffer(arr: Any) -> dict[str, Any]:
    """Where ``arr``'s memory lives, seen from the worker that received it."""
    base, chain = arr, []
    while base is not None:
        chain.append(type(base).__name__)
        base = getattr(base, "base", None) if not isinstance(base, memoryview) else base.obj
    return {
        "owns_data": bool(arr.flags.owndata),
        "writeable": bool(arr.flags.writeable),
        "in_mapping": "mmap" in chain,
        "pid": os.getpid(),
    }


def mutate_first(arr: Any) -> float:
    arr[0] = 99.0
    return float(arr[0])


def first(arr: Any) -> float:
    return float(arr[0])


def shm_probe(_upstream: Any, parent_pid: int) -> list[str]:
    """The run's segments that exist while this node runs."""
    return segments(parent_pid)


def twice(a: Any, b: Any) -> Any:
    return a + b


def report_and_block(_data: Any, fifo: str) -> Any:
    """Write this worker's pid to ``fifo``, then wait (to be killed)."""
    with open(fifo, "w") as stream:
        stream.write(f"{os.getpid()}\n")
    threading.Event().wait(120)
    return 0


def log_in_worker(x: Any) -> Any:
    logging.getLogger("tests.worker").info("hello from worker %d", os.getpid())
    logging.getLogger("tests.quiet").info("this one is filtered out in the worker")
    return x


class TwoArgumentError(Exception):
    """Cannot be unpickled: pickle calls ``__init__`` with the message alone."""

    def __init__(self, a: int, b: int) -> None:
        super().__init__(f"{a}-{b}")


def raise_two_argument_error(x: Any) -> Any:
    raise TwoArgumentError(x, 2)


class PidLog:
    """A plugin appending ``node pid`` lines to a file, from whichever process runs the node."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.seen: list[str] = []  # stays in each worker: the parent's copy remains empty

    @hook_impl
    def after_node_run(self, node: Any) -> None:
        self.seen.append(node.name)
        with open(self.path, "a") as stream:
            stream.write(f"{node.name} {os.getpid()} {len(self.seen)}\n")


class LockedPlugin:
    def __init__(self) -> None:
        self.lock = threading.Lock()

    @hook_impl
    def before_node_run(self, node: Any) -> None:
        pass


class ConstantDataset(AbstractDataset[Any, Any]):
    """A persisted-looking dataset that loads 1 and ignores saves."""

    def load(self) -> Any:
        return 1

    def save(self, data: Any) -> None:
        pass

    def _describe(self) -> dict[str, Any]:
        return {}


class LockedDataset(ConstantDataset):
    """Holds a client with a lock: cannot be pickled."""

    def __init__(self) -> None:
        self.client = {"session": threading.Lock()}


class BrokenOnArrival(ConstantDataset):
    """Pickles fine, but cannot be unpickled in the worker."""

    def __init__(self) -> None:
        self.state = "here"

    def __setstate__(self, state: dict[str, Any]) -> None:
        raise RuntimeError("this dataset refuses to be unpickled")

"""How a node's time limit is enforced where the node runs.

A Python thread cannot be stopped from outside, so each place that runs nodes enforces a limit
its own way, and the node shell is told which (:attr:`NodeShell.time_limit`):

* :func:`interrupt` (the sequential runner): on the main thread of a POSIX system a ``SIGALRM``
  timer raises :class:`~ductwork.exceptions.NodeTimeoutError` inside the node. That stops Python
  code and blocking calls that let signals through (``time.sleep``, socket and pipe reads, lock
  waits); it cannot stop C code that does not return to Python, and it takes over ``SIGALRM``
  while the node runs. Anywhere else the node fails when it returns, before it saves anything.
* :func:`watched` (threads, worker processes): the executor watches the clock itself. The
  thread executor reports the node failed and sets its ``stop`` event (it then saves nothing);
  the process executor stops the worker process.
* :func:`on_helper_thread` (Dask workers): the node runs on a thread of its own that is waited
  for until the limit; past it, the node is told to save nothing and the client restarts the
  worker, which ends the thread.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from types import FrameType

from ductwork.exceptions import NodeCancelledError, NodeTimeoutError
from ductwork.pipeline import Node

__all__ = [
    "Checkpoint",
    "TimeLimit",
    "Work",
    "interrupt",
    "on_helper_thread",
    "stop_checkpoint",
    "timeout_error",
    "watched",
]

Checkpoint = Callable[[], None]
"""Called after a node's function returns and before each save; raises to stop the node."""

Work = Callable[[Checkpoint | None, threading.Event | None], None]
"""A node's attempts, given the checkpoint to use and the event that ends them."""

TimeLimit = Callable[[Node, float, Work, threading.Event | None, str], None]
"""``time_limit(node, seconds, work, stop, worker)``: run ``work`` within ``seconds``."""


def timeout_error(node: Node, seconds: float, how: str) -> NodeTimeoutError:
    """The error of ``node`` running past ``seconds``; ``how`` says what became of it."""
    return NodeTimeoutError(
        f"Node '{node.name}' ran longer than its time limit of {seconds:g} s and {how}."
    )


def stop_checkpoint(node: Node, stop: threading.Event | None) -> Checkpoint | None:
    """A checkpoint that raises once ``stop`` is set (``None`` when there is no ``stop``)."""
    if stop is None:
        return None

    def checkpoint() -> None:
        if stop.is_set():
            raise NodeCancelledError(f"Node '{node.name}' was stopped before saving.")

    return checkpoint


def watched(
    node: Node, seconds: float, work: Work, stop: threading.Event | None, worker: str
) -> None:
    """Run ``work``; the executor watches the clock and stops the node itself."""
    work(stop_checkpoint(node, stop), stop)


def interrupt(
    node: Node, seconds: float, work: Work, stop: threading.Event | None, worker: str
) -> None:
    """Run ``work``, interrupted by ``SIGALRM`` past ``seconds`` where Python allows it."""
    deadline = time.monotonic() + seconds

    def checkpoint() -> None:
        if time.monotonic() > deadline:
            raise timeout_error(node, seconds, "was stopped before saving its outputs")

    if (
        not hasattr(signal, "setitimer")
        or threading.current_thread() is not threading.main_thread()
    ):
        work(checkpoint, stop)
        return
    armed = True

    def on_alarm(_signum: int, _frame: FrameType | None) -> None:
        if armed:  # the node may have returned while the signal was on its way
            raise timeout_error(node, seconds, "was interrupted")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        work(checkpoint, stop)
    finally:
        armed = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def on_helper_thread(
    node: Node, seconds: float, work: Work, stop: threading.Event | None, worker: str
) -> None:
    """Run ``work`` on a daemon thread of its own, waiting ``seconds`` at most; raise what it
    raised. Past ``seconds``, ``stop`` is set (the node saves nothing more) and the raised
    :class:`~ductwork.exceptions.NodeTimeoutError` carries ``worker_address`` (``worker``),
    which the Dask client restarts to end the thread.
    """
    stop = stop if stop is not None else threading.Event()
    failure: list[BaseException] = []

    def target() -> None:
        try:
            work(stop_checkpoint(node, stop), stop)
        except BaseException as error:
            failure.append(error)

    thread = threading.Thread(target=target, name=f"ductwork-{node.name}", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        stop.set()
        error = timeout_error(node, seconds, f"its Dask worker {worker} is restarted to stop it")
        error.worker_address = worker  # type: ignore[attr-defined]  # read by the client
        raise error
    if failure:
        raise failure[0]

"""Running a node with its retry policy: attempts, backoff waits, and what hooks and logs see.

Each attempt is a whole :func:`~ductwork.execution.node_run.run_node`: inputs are loaded again,
so a flaky read is retried as well as a flaky computation. Between attempts the ``on_node_retry``
hook fires and a WARNING is logged; the wait can be cut short by the run's stop event (Ctrl-C,
another node's failure), in which case the last error is raised at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor

from ductwork.exceptions import NodeCancelledError, NodeTimeoutError
from ductwork.execution.node_run import run_node
from ductwork.hooks.manager import HookCaller
from ductwork.io import CatalogProtocol
from ductwork.pipeline import Node, Retry

__all__ = ["run_with_retries"]

_logger = logging.getLogger(__name__)


def run_with_retries(
    node: Node,
    catalog: CatalogProtocol,
    hooks: HookCaller,
    *,
    retry: Retry | None,
    run_id: str | None = None,
    io_pool: Executor | None = None,
    checkpoint: Callable[[], None] | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Run ``node``, and run it again as ``retry`` allows while it fails.

    Args:
        node: The node to run.
        catalog: Its catalog.
        hooks: The run's hooks.
        retry: The policy to follow (``None``: one attempt).
        run_id: The id of the run.
        io_pool: Threads for asynchronous loads and saves, if any.
        checkpoint: Raises to stop the node before it saves (see ``run_node``).
        stop: Set when the run is ending: no further attempt starts.

    Raises:
        Exception: The error of the last attempt, with a note saying how many were made.
    """
    attempt = 1
    while True:
        try:
            run_node(node, catalog, hooks, run_id=run_id, io_pool=io_pool, checkpoint=checkpoint)
            return
        except Exception as error:
            # A time limit or a cancellation ends the node, whatever its retry policy says.
            final = isinstance(error, NodeTimeoutError | NodeCancelledError)
            if final or retry is None or not retry.retries(error, attempt):
                _note_attempts(error, attempt)
                raise
            delay = retry.delay(attempt)
            _announce_retry(node, hooks, error, attempt, retry.attempts, delay, run_id)
            if _interrupted(stop, delay):
                _note_attempts(error, attempt)
                raise
        attempt += 1


def _announce_retry(
    node: Node,
    hooks: HookCaller,
    error: Exception,
    attempt: int,
    attempts: int,
    delay: float,
    run_id: str | None,
) -> None:
    _logger.warning(
        "Node '%s' failed on attempt %d of %d (%s: %s); retrying in %.2f s.",
        node.name,
        attempt,
        attempts,
        type(error).__name__,
        error,
        delay,
    )
    hooks.on_node_retry(
        error=error, node=node, attempt=attempt, attempts=attempts, delay=delay, run_id=run_id
    )


def _interrupted(stop: threading.Event | None, delay: float) -> bool:
    if stop is None:
        time.sleep(delay)
        return False
    return stop.wait(delay)


def _note_attempts(error: BaseException, attempt: int) -> None:
    if attempt > 1:
        add_note(error, f"ductwork: the node failed on each of {attempt} attempts.")


def add_note(error: BaseException, note: str) -> None:
    """Attach ``note`` to ``error`` (``BaseException.add_note`` is Python 3.11+)."""
    notes = getattr(error, "__notes__", None)
    if not isinstance(notes, list):
        notes = []
        error.__notes__ = notes  # type: ignore[attr-defined,unused-ignore]
    notes.append(note)

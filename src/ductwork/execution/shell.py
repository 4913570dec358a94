"""The node shell: the one value that runs a node, wherever it runs.

A :class:`NodeShell` holds what a node's run needs besides the node and the catalog: the run id,
whether I/O is asynchronous, the run's options, the hook plugins, and how the place it runs in
enforces time limits. It is picklable (the hook manager and the I/O threads are rebuilt where it
lands), so the same value runs nodes inline, on threads, in worker processes and on Dask
workers. :meth:`NodeShell.run` is the function where a node actually runs: it applies the run's
policy (:func:`~ductwork.execution.options.node_policy`: retries, the time limit), takes the
measurements, calls :func:`~ductwork.execution.node_run.run_node` (where the node and dataset
hooks fire), and returns a :class:`~ductwork.execution.outcome.NodeOutcome`; it
never raises a node's error.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from ductwork.exceptions import NodeCancelledError, NodeExitError, NodeTimeoutError
from ductwork.execution.node_run import run_node
from ductwork.execution.options import NodePolicy, RunOptions, node_policy
from ductwork.execution.outcome import NO_DIGESTS, NO_METRICS, NodeOutcome
from ductwork.execution.time_limits import (
    Checkpoint,
    TimeLimit,
    interrupt,
    stop_checkpoint,
)
from ductwork.hooks.manager import HookSnapshot, plugins_from, registered_plugins
from ductwork.io import CatalogProtocol
from ductwork.pipeline import Node, Retry

__all__ = ["Meter", "NodeShell", "OutputDigest", "add_note"]

_logger = logging.getLogger(__name__)

Meter = Callable[[Node], AbstractContextManager[dict[str, float]]]
"""Measures one node's run: called with the node, the context manager wraps all its attempts
and yields a dict that it fills on exit (e.g. ``{"rss_peak": ..., "cpu_seconds": ...}``); the
dict becomes the outcome's ``metrics``. Must be picklable (it travels with the shell)."""

OutputDigest = Callable[[Node, CatalogProtocol], Mapping[str, str]]
"""Called where a node ran, right after it succeeded, with its catalog: content hashes of some
of its outputs, by name (they become the outcome's ``digests``). It must not raise, and must be
picklable (it travels with the shell)."""


@dataclass
class NodeShell:
    """Runs nodes with a run's policy: retries, time limit, hooks, measurements.

    Attributes:
        run_id: The id of the run, passed to the node hooks.
        is_async: Load a node's inputs and save its outputs concurrently, on I/O threads.
        options: The run's options (retry policy, time limit, ...).
        plugins: The hook plugins, as :func:`~ductwork.hooks.manager.registered_plugins` lists
            them.
        time_limit: How the place the shell runs in enforces time limits (see
            :mod:`ductwork.execution.time_limits`).
        meter: Measures each node's run, when given.
        digest: Hashes each node's outputs after it succeeded, when given.
    """

    run_id: str
    is_async: bool = False
    options: RunOptions = field(default_factory=RunOptions)
    plugins: list[tuple[str | None, object]] = field(default_factory=list)
    time_limit: TimeLimit = interrupt
    meter: Meter | None = None
    digest: OutputDigest | None = None
    _hooks: HookSnapshot | None = field(default=None, repr=False, compare=False)
    _io_pool: ThreadPoolExecutor | None = field(default=None, repr=False, compare=False)

    @classmethod
    def for_run(
        cls, run_id: str, is_async: bool, options: RunOptions, hooks: HookSnapshot
    ) -> NodeShell:
        """The shell of a run whose hooks in this process are ``hooks``."""
        # With no hook implemented, workers need no plugin (and a manager that is not a real
        # pluggy one, like Kedro's _NullPluginManager, is never asked for its plugins).
        plugins = registered_plugins(hooks.manager) if hooks.enabled else []
        return cls(run_id, is_async, options, plugins, _hooks=hooks)

    def enforcing(self, time_limit: TimeLimit) -> NodeShell:
        """This shell, for a place that enforces time limits with ``time_limit``."""
        return replace(self, time_limit=time_limit, _io_pool=None)

    @property
    def hooks(self) -> HookSnapshot:
        """The run's hooks in this process, built from ``plugins`` on first use."""
        if self._hooks is None:
            self._hooks = HookSnapshot(plugins_from(self.plugins))
        return self._hooks

    def policy(self, node: Node) -> NodePolicy:
        """The retry policy and time limit of ``node`` in this run."""
        return node_policy(node, self.options)

    def __getstate__(self) -> dict[str, Any]:
        # The hook manager and the I/O threads are rebuilt where the shell lands, never sent.
        return {**self.__dict__, "_hooks": None, "_io_pool": None}

    # --- the I/O threads of asynchronous mode, one pool per process ------------------------

    def __enter__(self) -> NodeShell:
        if self.is_async and self._io_pool is None:
            self._io_pool = ThreadPoolExecutor(thread_name_prefix="ductwork-io")
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self, wait: bool = True) -> None:
        """Stop the I/O threads; ``wait=False`` leaves running loads and saves to finish alone."""
        pool, self._io_pool = self._io_pool, None
        if pool is not None:
            pool.shutdown(wait=wait)

    # --- where a node runs -----------------------------------------------------------------

    def run(
        self,
        node: Node,
        catalog: CatalogProtocol,
        *,
        worker: str = "main",
        stop: threading.Event | None = None,
        contain_exits: bool = False,
    ) -> NodeOutcome:
        """Run ``node`` against ``catalog`` with the run's policy; report how it ended.

        Args:
            node: The node.
            catalog: Its catalog (in a worker: the worker's own).
            worker: Where it runs, for the outcome.
            stop: Set when the run is ending: no further attempt starts, nothing more is saved.
            contain_exits: Report a ``SystemExit`` or ``KeyboardInterrupt`` the node raised
                as its failure (on worker threads and processes, where neither can be the
                user's Ctrl-C) instead of letting it end the run.

        Returns:
            The outcome: its error is the node's exception after the last attempt, if any.
        """
        started = time.time()
        if self.meter is None and self.digest is None:
            error = self._failure(node, catalog, stop, worker, contain_exits)
            # tuple.__new__ directly: NodeOutcome's own __new__ is a Python call, on every node.
            return _new_outcome(
                NodeOutcome,
                (node, error, started, time.time(), worker, False, NO_METRICS, NO_DIGESTS),
            )
        with self.meter(node) if self.meter is not None else nullcontext({}) as metrics:
            error = self._failure(node, catalog, stop, worker, contain_exits)
        finished = time.time()
        digests = NO_DIGESTS
        if error is None and self.digest is not None:  # while the outputs are still here
            digests = self.digest(node, catalog)
        return NodeOutcome(
            node, error, started, finished, worker, False, metrics or NO_METRICS, digests
        )

    def _failure(
        self,
        node: Node,
        catalog: CatalogProtocol,
        stop: threading.Event | None,
        worker: str,
        contain_exits: bool,
    ) -> BaseException | None:
        """Run ``node`` with its policy; return its exception (``None`` on success).

        The one place where what a node raised is classified: an ``Exception`` is the node's
        failure; a ``SystemExit`` is always the node's failure, as a ``NodeExitError`` (a node
        cannot end the run, nor make it exit 0 unfinished); a ``KeyboardInterrupt`` is the
        node's failure when ``contain_exits`` (the node raised it on a worker), and otherwise
        ends the run (on the calling thread it may be Ctrl-C).
        """
        retry, timeout = node_policy(node, self.options)
        checkpoint = None if stop is None else stop_checkpoint(node, stop)
        try:
            if timeout is not None:  # enforced the way the place the shell runs in can
                work = partial(self._attempts, node, catalog, retry)
                self.time_limit(node, timeout, work, stop, worker)
            elif retry is None:  # most nodes: one attempt, nothing to watch
                # The hooks property only when they are not built yet (a call on every node).
                hooks = self._hooks or self.hooks
                run_node(node, catalog, hooks, self.run_id, self._io_pool, checkpoint)
            else:
                self._attempts(node, catalog, retry, checkpoint, stop)
        except Exception as error:
            return error
        except SystemExit as exit:
            return NodeExitError.of(exit)
        except BaseException as error:
            if contain_exits:
                return error
            raise
        return None

    def _attempts(
        self,
        node: Node,
        catalog: CatalogProtocol,
        retry: Retry | None,
        checkpoint: Checkpoint | None,
        stop: threading.Event | None,
    ) -> None:
        """Run ``node``, and run it again as ``retry`` allows while it fails.

        Each attempt is a whole ``run_node``: inputs are loaded again, so a flaky read is
        retried as well as a flaky computation. The wait between attempts ends early when
        ``stop`` is set; the last error is then raised at once.
        """
        attempt = 1
        while True:
            try:
                run_node(node, catalog, self.hooks, self.run_id, self._io_pool, checkpoint)
                return
            except Exception as error:
                # A time limit or a cancellation ends the node, whatever its retry policy says.
                final = isinstance(error, NodeTimeoutError | NodeCancelledError)
                if final or retry is None or not retry.retries(error, attempt):
                    _note_attempts(error, attempt)
                    raise
                delay = retry.delay(attempt)
                self._announce_retry(node, error, attempt, retry.attempts, delay)
                if _interrupted(stop, delay):
                    _note_attempts(error, attempt)
                    raise
            attempt += 1

    def _announce_retry(
        self, node: Node, error: Exception, attempt: int, attempts: int, delay: float
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
        self.hooks.on_node_retry(
            error=error,
            node=node,
            attempt=attempt,
            attempts=attempts,
            delay=delay,
            run_id=self.run_id,
        )


_new_outcome = tuple.__new__


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

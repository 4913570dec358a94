"""The run loop: the one place that drives a pipeline through an executor.

Every runner is this loop over a different executor. Each pass hands the scheduler's ready nodes
to the executor, up to its free capacity (and the run's ``max_running``), then waits for outcomes
and feeds them back: a success (or a skipped node) releases the datasets nobody will load again
and may make more nodes ready; a failure stops handing out work, or, with ``keep_going``,
withdraws the nodes downstream of the failed one and lets the rest go on. The loop returns what
happened (:class:`RunResult`); the runner decides what to raise. The cost per node is the
scheduler's (constant per edge) plus the executor's.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import NamedTuple

from ductwork.exceptions import RunnerError
from ductwork.execution import NodeOutcome, RunOptions
from ductwork.execution.shell import Meter, OutputDigest
from ductwork.pipeline import Node, Pipeline
from ductwork.runner.executors import NodeExecutor
from ductwork.scheduling import Scheduler

__all__ = ["RunObserver", "RunResult", "run_loop"]


class RunObserver:
    """Follows a run from where ``run()`` was called: which node started, which finished.

    The command line's progress display and run journal are observers. Unlike hooks, observers
    are never shipped to worker processes, so they may hold terminals, files and locks. The
    methods do nothing here; override the ones you need. They are called on the thread that
    called ``run()``, and must be quick: the run loop waits for them.

    An observer that records measurements sets ``meter`` (a picklable
    :data:`~ductwork.execution.shell.Meter`): the run then measures every node where it runs
    and hands the numbers over in ``outcome.metrics``.
    """

    meter: Meter | None = None
    digest: OutputDigest | None = None
    """Hashes each node's outputs where it ran, after it succeeded (a picklable
    :data:`~ductwork.execution.shell.OutputDigest`); the hashes come in ``outcome.digests``."""
    gate: Callable[[Node, bool], bool | None] | None = None
    """Asked, on the loop's thread, about each node as it becomes ready (everything upstream
    has finished): ``gate(node, can_wait)``. True skips it: it is not handed to a worker, and
    is reported finished with a ``skipped`` outcome; False runs it; None (only when
    ``can_wait``, that is while other nodes run) asks again after the next outcome.
    Incremental runs decide here (``ductwork.incremental``)."""

    def node_started(self, node: Node) -> None:
        """``node`` was handed to a worker (it may wait there for a free slot briefly)."""

    def node_finished(self, outcome: NodeOutcome) -> None:
        """``node`` finished, successfully or not (``outcome.error``), at ``outcome.finished``."""


class RunResult(NamedTuple):
    """What a run of the loop did.

    Attributes:
        finished: The nodes that succeeded (or were skipped as up to date), in order.
        failures: The outcomes of the nodes that failed, in order.
        withdrawn: With ``keep_going``, the nodes not run because they depend on a failed one.
    """

    finished: list[Node]
    failures: list[NodeOutcome]
    withdrawn: list[Node]


def run_loop(
    pipeline: Pipeline,
    executor: NodeExecutor,
    logger: logging.Logger,
    observer: RunObserver,
    options: RunOptions,
) -> RunResult:
    """Run every node of ``pipeline`` on ``executor`` (already entered); say what happened.

    Without ``options.keep_going``, the loop stops handing out work at the first failure (the
    rest of that batch of outcomes is still recorded); nodes still in flight are left to the
    executor's exit. A loop that stops early (a failure, Ctrl-C) first tells the observer what
    an executor with a ``drain()`` knows that the loop does not: outcomes already reported to
    it, nodes it started ahead of the loop.

    Raises:
        RunnerError: Nothing is running and nothing can start, yet nodes remain (a dependency
            graph that the scheduler cannot satisfy).
    """
    try:
        result = _drive(pipeline, executor, logger, observer, options)
    except BaseException:  # Ctrl-C, a lost worker: tell observers what is known to have run
        _tell_untold(pipeline, executor, observer, logger)
        raise
    if result.failures and not options.keep_going:
        _tell_untold(pipeline, executor, observer, logger)
    return result


def _drive(
    pipeline: Pipeline,
    executor: NodeExecutor,
    logger: logging.Logger,
    observer: RunObserver,
    options: RunOptions,
) -> RunResult:
    scheduler = Scheduler(pipeline.graph, keep=pipeline.inputs() | pipeline.outputs())
    result = RunResult([], [], [])
    in_flight, total = 0, len(pipeline.nodes)
    log_completions = logger.isEnabledFor(logging.INFO)  # asked once: it is asked per node
    # Bound once: each is called for every node, and the loop is most of a small node's cost.
    get_ready, done = scheduler.get_ready, scheduler.done
    submit, next_outcomes, release = executor.submit, executor.next_outcomes, executor.release
    node_started, node_finished = observer.node_started, observer.node_finished
    gate = getattr(observer, "gate", None)  # observers may be duck-typed
    finished, failures = result.finished, result.failures
    gated = None if gate is None else _Gated(gate)
    keep_going, max_running = options.keep_going, options.max_running
    while scheduler.is_active() and (keep_going or not failures):
        limit = executor.capacity  # it may change with the nodes' durations
        if max_running is not None and max_running < limit:
            limit = max_running
        if gated is None:
            ready = get_ready(limit - in_flight)
        else:
            ready, skipped = gated.sort(get_ready(), in_flight, limit)
            _finish_skipped(skipped, node_finished, scheduler, executor, finished)
        for node in ready:
            submit(node)
            node_started(node)
            in_flight += 1
        if gated is not None and (skipped or (gated.waiting and in_flight == 0)):
            continue  # ask about what the skips made ready, or decide what waits
        if in_flight == 0:
            raise RunnerError(_stuck_message(result, total))
        for outcome in next_outcomes():
            in_flight -= 1
            node_finished(outcome)
            if outcome.error is not None:
                failures.append(outcome)
                if keep_going:
                    result.withdrawn.extend(_withdraw(outcome, scheduler, logger))
                continue
            released = done(outcome.node)
            if released:
                release(released)
            finished.append(outcome.node)
            if log_completions:
                logger.info("Completed node: %s", outcome.node.name)
                logger.info("Completed %d out of %d tasks", len(finished), total)
    return result


class _Gated:
    """Ready nodes through an observer's ``gate``: which to hand out now, which are skipped,
    and which wait (no free slot, or the gate asked to be asked again later)."""

    def __init__(self, gate: Callable[[Node, bool], bool | None]) -> None:
        self.gate = gate
        self.waiting: list[Node] = []
        self._stalled = False  # the last pass decided nothing: this one must

    def sort(
        self, ready: list[Node], in_flight: int, capacity: int
    ) -> tuple[list[Node], list[Node]]:
        candidates, self.waiting = [*self.waiting, *ready], []
        chosen: list[Node] = []
        skipped: list[Node] = []
        for index, node in enumerate(candidates):
            busy = in_flight + len(chosen)
            if busy >= capacity:
                self.waiting.append(node)
                continue
            # Waiting is allowed while something runs, or may run after this node.
            can_wait = busy > 0 or (not self._stalled and index < len(candidates) - 1)
            verdict = self.gate(node, can_wait)
            if verdict is None:
                self.waiting.append(node)
            elif verdict:
                skipped.append(node)
            else:
                chosen.append(node)
        self._stalled = not chosen and not skipped
        return chosen, skipped


def _finish_skipped(
    nodes: list[Node],
    node_finished: Callable[[NodeOutcome], None],
    scheduler: Scheduler,
    executor: NodeExecutor,
    finished: list[Node],
) -> None:
    """Report nodes the gate skipped (up to date) as finished, without a worker."""
    for node in nodes:
        now = time.time()
        node_finished(NodeOutcome(node, None, now, now, "main", skipped=True))
        released = scheduler.done(node)
        if released:
            executor.release(released)
        finished.append(node)


def _tell_untold(
    pipeline: Pipeline, executor: NodeExecutor, observer: RunObserver, logger: logging.Logger
) -> None:
    """The loop stops early: report what the executor knows and the loop was not told (only
    executors that run nodes ahead know any): the nodes it started ahead, the outcomes it holds.
    In pipeline order, so that a journal never hears of a node's end before its start, nor of
    a consumer before its producer. The reason the loop stops comes first: an error here is
    logged, not raised in its place."""
    drain = getattr(executor, "drain", None)
    if drain is None:
        return
    try:
        began, outcomes = drain()
    except Exception:
        logger.warning("Could not learn which nodes ran ahead of the stopped run", exc_info=True)
        return
    finished = {outcome.node: outcome for outcome in outcomes}
    for node in pipeline.nodes:
        try:
            if node in began:
                observer.node_started(node)
            if node in finished:
                observer.node_finished(finished[node])
        except Exception:  # the others are still told
            message = "A run observer failed when told of node '%s' as the run stopped early"
            logger.warning(message, node.name, exc_info=True)


def _withdraw(outcome: NodeOutcome, scheduler: Scheduler, logger: logging.Logger) -> list[Node]:
    withdrawn = scheduler.failed(outcome.node)
    logger.warning(
        "Node '%s' failed (%s: %s); going on without the %d node(s) that depend on it%s",
        outcome.node.name,
        type(outcome.error).__name__,
        outcome.error,
        len(withdrawn),
        ": " + ", ".join(n.name for n in withdrawn) if withdrawn else ".",
    )
    return withdrawn


def _stuck_message(result: RunResult, total: int) -> str:
    done = ", ".join(sorted(n.name for n in result.finished)) or "none"
    return (
        "Unable to schedule new tasks although some nodes have not been run: "
        f"{total - len(result.finished)} of {total} nodes remain, none is ready and none is "
        f"running. Finished: {done}."
    )

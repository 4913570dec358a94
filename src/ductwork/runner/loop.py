"""The run loop: the one place that drives a pipeline through an executor.

Every runner is this loop over a different executor. Each pass hands the scheduler's ready nodes
to the executor, up to its free capacity (and the run's ``max_running``), then waits for outcomes
and feeds them back: a success releases the datasets nobody will load again and may make more
nodes ready; a failure stops the run, or, with ``keep_going``, withdraws the nodes downstream of
the failed one and lets the rest go on. The cost per node is the scheduler's (constant per edge)
plus the executor's.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from ductwork.exceptions import RunnerError
from ductwork.pipeline import Node, Pipeline
from ductwork.runner.executors import NodeExecutor, NodeOutcome, RunOptions
from ductwork.scheduling import Scheduler

__all__ = ["NodeFailedError", "RunObserver", "RunProgress", "run_loop"]


class RunObserver:
    """Follows a run from where ``run()`` was called: which node started, which finished.

    The command line's progress display and run journal are observers. Unlike hooks, observers
    are never shipped to worker processes, so they may hold terminals, files and locks. The
    methods do nothing here; override the ones you need. They are called on the thread that
    called ``run()``, and must be quick: the run loop waits for them.
    """

    def node_started(self, node: Node) -> None:
        """``node`` was handed to a worker (it may wait there for a free slot briefly)."""

    def node_finished(self, outcome: NodeOutcome) -> None:
        """``node`` finished, successfully or not (``outcome.error``), at ``outcome.finished``."""


@dataclass
class RunProgress:
    """What a run has done so far; the runner reads it after a failure."""

    total: int
    finished: list[Node] = field(default_factory=list)
    failures: list[NodeOutcome] = field(default_factory=list)
    withdrawn: list[Node] = field(default_factory=list)


class NodeFailedError(RunnerError):
    """Internal: carries a failed node's outcome out of the loop to the runner."""

    def __init__(self, outcome: NodeOutcome) -> None:
        super().__init__(f"Node '{outcome.node.name}' failed")
        self.outcome = outcome


def run_loop(
    pipeline: Pipeline,
    executor: NodeExecutor,
    progress: RunProgress,
    logger: logging.Logger,
    observer: RunObserver,
    options: RunOptions,
) -> None:
    """Run every node of ``pipeline`` on ``executor`` (already entered), recording ``progress``.

    Raises:
        NodeFailedError: A node failed (and ``options.keep_going`` is off); the loop stopped
            handing out work. Nodes still in flight are left to the executor's exit.
        RunnerError: Nothing is running and nothing can start, yet nodes remain (a dependency
            graph that the scheduler cannot satisfy).
    """
    scheduler = Scheduler(pipeline.graph, keep=pipeline.inputs() | pipeline.outputs())
    capacity = min(executor.capacity, options.max_running or executor.capacity)
    in_flight = 0
    log_completions = logger.isEnabledFor(logging.INFO)  # asked once: it is asked per node
    # Bound once: each is called for every node, and the loop is most of a small node's cost.
    get_ready, done = scheduler.get_ready, scheduler.done
    submit, next_outcomes, release = executor.submit, executor.next_outcomes, executor.release
    node_started, node_finished = observer.node_started, observer.node_finished
    finished = progress.finished
    while scheduler.is_active():
        for node in get_ready(capacity - in_flight):
            submit(node)
            node_started(node)
            in_flight += 1
        if in_flight == 0:
            raise RunnerError(_stuck_message(progress))
        failure: NodeOutcome | None = None
        for outcome in next_outcomes():
            in_flight -= 1
            node_finished(outcome)
            if outcome.error is not None:
                if not options.keep_going:
                    # Record the rest of the batch first: what finished is not run again.
                    failure = failure or outcome
                    continue
                _keep_going_after(outcome, scheduler, progress, logger)
                continue
            released = done(outcome.node)
            if released:
                release(released)
            finished.append(outcome.node)
            if log_completions:
                logger.info("Completed node: %s", outcome.node.name)
                logger.info("Completed %d out of %d tasks", len(finished), progress.total)
        if failure is not None:
            raise NodeFailedError(failure)


def _keep_going_after(
    outcome: NodeOutcome, scheduler: Scheduler, progress: RunProgress, logger: logging.Logger
) -> None:
    withdrawn = scheduler.failed(outcome.node)
    progress.failures.append(outcome)
    progress.withdrawn.extend(withdrawn)
    logger.warning(
        "Node '%s' failed (%s: %s); going on without the %d node(s) that depend on it%s",
        outcome.node.name,
        type(outcome.error).__name__,
        outcome.error,
        len(withdrawn),
        ": " + ", ".join(n.name for n in withdrawn) if withdrawn else ".",
    )


def _stuck_message(progress: RunProgress) -> str:
    done = ", ".join(sorted(n.name for n in progress.finished)) or "none"
    return (
        "Unable to schedule new tasks although some nodes have not been run: "
        f"{progress.total - len(progress.finished)} of {progress.total} nodes remain, none "
        f"is ready and none is running. Finished: {done}."
    )

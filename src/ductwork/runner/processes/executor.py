"""``ProcessExecutor``: the run loop's executor for worker processes.

The caller's catalog stays in the parent. For each dataset the pipeline uses, the parent decides
once how it travels:

* **in memory** (see :func:`ductwork.io.travel.is_in_memory`): the data travels through shared
  memory (:mod:`.transport`); the parent keeps track of it in :mod:`.data`;
* **persisted** (files, tables): the datasets themselves travel, once, to every worker, which
  loads and saves them itself.

Workers start once per run and receive every node once, in one table (:mod:`.nodes`); a node is
sent to a worker, by its index there, when it is submitted, or before, when it follows nodes
queued on the same worker (:mod:`.ahead`). Nodes go to a worker in one message per pass of the
run loop.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Collection, Iterable
from multiprocessing.context import BaseContext
from typing import Any

from ductwork.execution import NodeOutcome
from ductwork.execution.time_limits import timeout_error, watched
from ductwork.pipeline import Node
from ductwork.runner.executors import RunContext
from ductwork.runner.processes import transport
from ductwork.runner.processes.ahead import Ahead
from ductwork.runner.processes.data import RunData
from ductwork.runner.processes.handle import Event, WorkerHandle
from ductwork.runner.processes.nodes import PickledNodes
from ductwork.runner.processes.pool import Pool
from ductwork.runner.processes.protocol import (
    DONE,
    READY,
    Payload,
    Setup,
    Task,
    logging_levels,
    read_done,
)
from ductwork.runner.validation import Offenders, check_travel

__all__ = ["ProcessExecutor"]

# Nodes a worker holds at once: the one it runs, and the next, so that it need not wait for the
# parent between nodes. When nodes take less than _QUICK seconds, the parent's turn-around would
# leave the workers idle: they then hold up to _QUICK_DEPTH (sent in one message each). (Sending
# more only once fewer than 4 remain unreported made fewer messages but starved a chain's worker.)
_DEPTH = 2
_QUICK_DEPTH = 16
_QUICK = 0.002
_NONE: frozenset[str] = frozenset()


class ProcessExecutor:
    """Runs nodes on worker processes that start once per run; data moves in shared memory.

    Entering validates everything that must travel (raising
    :class:`~ductwork.exceptions.NotPicklableError` before any worker starts), then starts the
    workers. Leaving stops them: politely after a success, at once after an exception; either
    way every worker is reaped and every shared-memory segment of the run unlinked.
    """

    def __init__(self, context: RunContext, workers: int, mp_context: BaseContext) -> None:
        """Prepare to run ``context``'s pipeline on ``workers`` processes of ``mp_context``."""
        # A worker holds the next node while it runs one, so it need not wait for the parent
        # between nodes; not when nodes have time limits, which count from a node's sending.
        policy = context.shell.policy
        self._timed = any(policy(node).timeout is not None for node in context.pipeline.nodes)
        self._depth = 1 if self._timed else _DEPTH
        self._workers = workers
        self._context = context
        self._shell = context.shell.enforcing(watched)  # the parent stops overdue workers
        self.prefix = transport.run_prefix()
        """The prefix of every shared-memory segment name of this run."""
        self._pool = Pool(mp_context)
        self._data = RunData(context.pipeline, context.catalog, self.prefix)
        self._nodes = PickledNodes((), {})  # see _prepare
        self._backlog: list[Node] = []  # submitted while a replacement worker was starting
        self._ahead = Ahead(context.pipeline, context.ahead and not self._timed)
        self._handed: list[NodeOutcome] = []  # early outcomes of nodes the loop has handed out
        self._outbox: dict[WorkerHandle, list[Task]] = {}  # sent at the next wait, one message

    def __enter__(self) -> ProcessExecutor:
        try:
            payload = self._prepare()
            self._start(payload)
        except BaseException:
            self._shutdown(graceful=False)
            raise
        return self

    def _prepare(self) -> bytes:
        offenders: Offenders = {}
        data = self._data
        data.export_free_inputs(offenders)  # segments made here are removed if this raises
        self._nodes = PickledNodes(self._context.pipeline.nodes, offenders)
        where, plugins = "the worker processes", self._shell.plugins
        check_travel((), data.datasets, data.shipped, plugins, where, offenders)  # (nodes: above)
        return Payload(data.shipped, sorted(data.memory), self._shell).pack()

    def _start(self, payload: bytes) -> None:
        count = min(self._workers, len(self._context.pipeline.nodes))
        levels, disable = logging_levels()
        setup = Setup(
            0, self.prefix, list(sys.path), os.getcwd(), dict(os.environ), levels, disable, payload
        )
        self._pool.start(count, lambda index: setup._replace(worker=index), self._nodes.table)

    @property
    def capacity(self) -> int:
        """How many nodes the workers may hold at once (more while nodes are quick)."""
        return self._workers * self._depth

    def submit(self, node: Node) -> None:
        """Send ``node`` and its in-memory inputs to the least busy worker (unless it was sent
        ahead); then the nodes that follow it there (see :mod:`.ahead`)."""
        if node in self._ahead.early:
            self._handed.append(self._ahead.early.pop(node))
        elif node in self._ahead.sent:
            self._ahead.sent.discard(node)  # its outcome is reported when it comes
        else:
            self._dispatch(node)

    def _dispatch(self, node: Node) -> None:
        self._ahead.started.add(node)
        ready = [w for w in self._pool.workers if w.ready and len(w.queue) < self._depth]
        if not ready:  # a worker that replaces a lost one is still starting
            self._backlog.append(node)
            return
        worker = min(ready, key=lambda w: len(w.queue))
        self._send(node, worker, [])
        self._send_followers(node, worker)

    def _send(self, node: Node, worker: WorkerHandle, after: list[Node]) -> None:
        local: frozenset[str] = _NONE
        if after:  # it follows nodes queued there: it reads their in-memory outputs there
            made = {name for producer in after for name in producer.output_names}
            memory = self._data.memory
            local = frozenset(n for n in node.input_names if n in made and n in memory)
        inputs, takes, errors = self._data.for_node(node, local)
        worker.queue.append((node, time.time()))
        worker.held.add(node)
        if self._timed:  # (see _timed)
            timeout = self._shell.policy(node).timeout
            worker.deadline = None if timeout is None else time.monotonic() + timeout
        names = tuple(p.name for p in after)
        task = Task(self._nodes.index[node], inputs, takes, errors, local, names)
        self._outbox.setdefault(worker, []).append(task)

    def _send_followers(self, node: Node, worker: WorkerHandle) -> None:
        """Send ``worker`` a node that waits only for ``node`` and others it holds, and one of
        its own, and so on, while it holds fewer than it may: one, as a chain has; more (a fan)
        would queue on this worker while the others idle, and go through the loop instead."""
        for follower, after in self._ahead.followers(node, worker.held):
            if len(worker.queue) < self._depth:
                self._ahead.started.add(follower)
                self._ahead.sent.add(follower)
                self._send(follower, worker, after)
                self._send_followers(follower, worker)
            return

    def _send_outbox(self) -> None:
        for worker, tasks in self._outbox.items():
            worker.send(tasks)
        self._outbox.clear()

    def next_outcomes(self) -> list[NodeOutcome]:
        """Wait until a worker reports a node finished, dies, or overruns its time limit."""
        # Gathered in self._handed, so that what Ctrl-C cuts short is still there to drain.
        while not self._handed:
            self._send_outbox()
            for event in self._pool.events(self._pool.time_to_next_deadline()):
                self._take(event)
            self._handed.extend(self._stop_overdue())
        outcomes, self._handed = self._handed, []
        return outcomes

    def drain(self) -> tuple[set[Node], list[NodeOutcome]]:
        """The run stops early (Ctrl-C, a failure): stop the workers at once, so that none begins
        a node it holds, then say what the run loop was not told: the outcomes in the pipes,
        and the nodes sent ahead that ran or were running (see :meth:`.Ahead.untold`)."""
        self._ahead.enabled, self._backlog = False, []
        self._pool.halt()  # as leaving after an exception would, a moment later
        with contextlib.suppress(Exception):  # what cannot be read is not told
            for event in self._pool.pending():
                self._take(event)
        sent = [w for w in self._pool.workers if len(w.queue) > len(self._outbox.get(w, ()))]
        handed, self._handed = self._handed, []
        return self._ahead.untold(handed, [worker.queue[0][0] for worker in sent])

    def _take(self, event: Event) -> None:
        outcome = self._outcome(event)
        if outcome is not None:
            self._handed.append(outcome)

    def _outcome(self, event: Event) -> NodeOutcome | None:
        worker, message = event
        node = worker.node
        if message is None:  # the process died
            if node is None:
                raise worker.lost_error()
            outcome = NodeOutcome.ended(node, worker.lost_error(), worker.submitted, worker.label)
            ahead = node in self._ahead.sent
            self._replace(worker)
            if ahead:  # it ran there, sent ahead: its end is told when the loop hands it out
                self._ahead.started.add(node)
                self._ahead.early[node] = outcome
                return None
            return outcome
        if message[0] == READY:  # a replacement worker
            worker.ready = True
            self._free(worker)
            return None
        if message[0] != DONE or node is None:
            return None
        outcome, outputs = read_done(message, node, worker.label)
        self._data.produced(outputs)
        worker.queue.pop(0)
        worker.held.discard(node)
        self._free(worker)
        if outcome.error is None:
            if not self._timed:
                quick = outcome.finished - outcome.started < _QUICK
                self._depth = _QUICK_DEPTH if quick else _DEPTH
            self._data.loaded(node)
            self._ahead.succeeded(node)
        if node in self._ahead.sent:  # kept until the loop hands it out (if it ever does)
            self._ahead.sent.discard(node)
            self._ahead.early[node] = outcome
            return None
        return outcome

    def _free(self, worker: WorkerHandle) -> None:
        worker.deadline = None
        while self._backlog and len(worker.queue) < self._depth:
            self._dispatch(self._backlog.pop(0))
        if self._ahead.enabled and worker.queue and len(worker.queue) < self._depth:
            # The chain it holds may go on (the followers of its last node: asking about every
            # node it holds cost a chain's parent a quarter of its time).
            self._send_followers(worker.queue[-1][0], worker)

    def _stop_overdue(self) -> list[NodeOutcome]:
        now, stopped = time.monotonic(), []
        for worker in list(self._pool.workers):
            if worker.node is None or worker.deadline is None or worker.deadline > now:
                continue
            node, timeout = worker.node, self._shell.policy(worker.node).timeout or 0.0
            error = timeout_error(node, timeout, f"its worker process ({worker.label}) was stopped")
            stopped.append(NodeOutcome.ended(node, error, worker.submitted, worker.label))
            self._replace(worker)
        return stopped

    def _replace(self, worker: WorkerHandle) -> None:
        # A worker lost or stopped mid-node may have left segments it never reported: remove
        # them, but not those of outputs it did report, which other nodes still read. The
        # nodes it held behind the one it ran go to the other workers; those sent ahead are
        # forgotten, to be sent when the loop hands them out.
        held = [node for node, _ in worker.queue]
        self._backlog[:0] = [node for node in held[1:] if node not in self._ahead.sent]
        self._ahead.started.difference_update(n for n in held if n in self._ahead.sent)
        self._ahead.sent.difference_update(held)
        worker.queue.clear()
        worker.held.clear()
        self._outbox.pop(worker, None)
        self._pool.replace(worker)
        transport.sweep(f"{self.prefix}{worker.index}_", keep=self._data.live_segments())

    def release(self, names: Iterable[str]) -> None:
        """Unlink the released datasets' segments; release them in the caller's catalog."""
        self._data.release(names, self._context.catalog)

    def collect(self, names: Collection[str]) -> None:
        """Copy the in-memory free outputs out of shared memory into the caller's datasets."""
        self._data.collect(names)

    def __exit__(self, exc_type: type[BaseException] | None, *_exc: Any) -> None:
        self._shutdown(graceful=exc_type is None)

    def _shutdown(self, graceful: bool) -> None:
        try:
            if graceful:
                self._pool.stop()
            else:
                self._pool.kill()
        except BaseException:
            self._pool.kill()  # e.g. Ctrl-C while waiting for workers to stop
            raise
        finally:
            self._data.drop_all()
            transport.sweep(self.prefix)

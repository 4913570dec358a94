"""``ProcessExecutor``: the run loop's executor for worker processes.

The caller's catalog stays in the parent. For each dataset the pipeline uses, the parent decides
once how it travels:

* **in memory** (see :func:`ductwork.io.travel.is_in_memory`): the data travels through shared
  memory (:mod:`.transport`). Free inputs are pickled by the parent before any worker starts;
  a node's outputs by the worker that made them. The parent keeps each dataset's
  :class:`~.transport.Blob` and sends it with every node that loads the dataset, telling the
  last reader to unlink the segment as soon as it has mapped it. Released datasets are unlinked
  at once; after a successful run the free outputs are copied into the caller's datasets
  (so they outlive the runner), and every segment of the run is unlinked on every exit path.
* **persisted** (files, tables): the datasets themselves travel, once, to every worker, which
  loads and saves them itself.

Workers start once per run and receive each node once, when it is submitted.
"""

from __future__ import annotations

import itertools
import os
import secrets
import sys
import time
from collections import Counter
from collections.abc import Collection, Iterable
from multiprocessing.context import BaseContext
from typing import Any

import cloudpickle

from ductwork.execution import NodeOutcome
from ductwork.execution.time_limits import timeout_error, watched
from ductwork.io.travel import is_in_memory, not_picklable_error
from ductwork.pipeline import Node
from ductwork.runner.executors import RunContext
from ductwork.runner.processes import transport
from ductwork.runner.processes.pool import Event, Pool, WorkerHandle
from ductwork.runner.processes.protocol import (
    DONE,
    READY,
    PackedError,
    Payload,
    Setup,
    Task,
    logging_levels,
    pack_error,
    unpack_error,
)
from ductwork.runner.processes.transport import Blob
from ductwork.runner.validation import Offenders, check_travel, data_problems

__all__ = ["ProcessExecutor"]

# Nodes a worker holds at once: the one it runs, and the next, so that it need not wait for the
# parent between nodes. When nodes take less than _QUICK seconds, the parent's turn-around would
# leave the workers idle: they then hold up to _QUICK_DEPTH (sent in one message each).
_DEPTH = 2
_QUICK_DEPTH = 16
_QUICK = 0.002


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
        self.prefix = _prefix_for_run()
        """The prefix of every shared-memory segment name of this run."""
        self._pool = Pool(mp_context)
        catalog, pipeline = context.catalog, context.pipeline
        self._free_inputs = pipeline.inputs()
        self._datasets = {name: catalog.get(name) for name in sorted(pipeline.datasets())}
        self._memory = {name for name, ds in self._datasets.items() if is_in_memory(ds)}
        self._loads_left = Counter(n for node in pipeline.nodes for n in node.inputs)
        self._blobs: dict[str, Blob] = {}
        self._input_errors: dict[str, PackedError] = {}
        self._pickled_nodes: dict[Node, bytes] = {}
        self._backlog: list[Node] = []  # submitted while a replacement worker was starting
        self._outbox: dict[WorkerHandle, list[Task]] = {}  # sent at the next wait, one message
        self._numbers = itertools.count()

    # --- entering: validate, export free inputs, start the workers --------------------------

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
        self._export_free_inputs(offenders)  # segments made here are removed if this raises
        shipped = {n: ds for n, ds in self._datasets.items() if n not in self._memory}
        self._pickled_nodes = check_travel(
            self._context.pipeline.nodes,
            self._datasets,
            shipped,
            self._shell.plugins,
            "the worker processes",
            offenders,
        )
        payload = Payload(shipped, sorted(self._memory), self._shell)
        try:
            return bytes(cloudpickle.dumps(payload, protocol=5))
        except Exception as error:  # each part pickles alone, yet not together
            reasons = [f"{type(error).__name__}: {error}"]
            headline = "Cannot send the worker set-up to the worker processes:"
            raise not_picklable_error(headline, {"the worker set-up": reasons}) from error

    def _export_free_inputs(self, offenders: Offenders) -> None:
        for name in sorted(self._free_inputs & self._memory):
            try:
                data = self._datasets[name].load()
            except Exception as error:  # raised in the worker, when the node loads it
                self._input_errors[name] = pack_error(error)
                continue
            try:
                self._blobs[name] = transport.dump(data, self._new_segment_name)
            except Exception as error:
                offenders[f"dataset '{name}'"] = data_problems(data, error)

    def _new_segment_name(self) -> str:
        return f"{self.prefix}p_{next(self._numbers)}"

    def _start(self, payload: bytes) -> None:
        count = min(self._workers, len(self._context.pipeline.nodes))
        levels, disable = logging_levels()
        setup = Setup(
            0, self.prefix, list(sys.path), os.getcwd(), dict(os.environ), levels, disable, payload
        )
        self._pool.start(count, lambda index: setup._replace(worker=index))

    # --- running ----------------------------------------------------------------------------

    @property
    def capacity(self) -> int:
        """How many nodes the workers may hold at once (more while nodes are quick)."""
        return self._workers * self._depth

    def submit(self, node: Node) -> None:
        """Send ``node`` and its in-memory inputs to the least busy worker."""
        ready = [w for w in self._pool.workers if w.ready and len(w.queue) < self._depth]
        if not ready:  # a worker that replaces a lost one is still starting
            self._backlog.append(node)
            return
        worker = min(ready, key=lambda w: len(w.queue))
        inputs = {name: self._blobs[name] for name in node.inputs if name in self._blobs}
        # The last load of a dataset: the worker unlinks the segment once it has mapped it.
        takes = frozenset(name for name in inputs if self._loads_left[name] == 1)
        errors = {n: self._input_errors[n] for n in node.inputs if n in self._input_errors}
        timeout = self._shell.policy(node).timeout
        worker.queue.append((node, time.time()))
        worker.deadline = None if timeout is None else time.monotonic() + timeout
        task = Task(self._pickled_nodes[node], inputs, takes, errors)
        self._outbox.setdefault(worker, []).append(task)

    def _send_outbox(self) -> None:
        for worker, tasks in self._outbox.items():
            worker.send(tasks)
        self._outbox.clear()

    def next_outcomes(self) -> list[NodeOutcome]:
        """Wait until a worker reports a node finished, dies, or overruns its time limit."""
        outcomes: list[NodeOutcome] = []
        while not outcomes:
            self._send_outbox()
            for event in self._pool.events(self._time_to_next_deadline()):
                outcome = self._outcome(event)
                if outcome is not None:
                    outcomes.append(outcome)
            outcomes.extend(self._stop_overdue())
        return outcomes

    def _outcome(self, event: Event) -> NodeOutcome | None:
        worker, message = event
        node = worker.node
        if message is None:  # the process died
            if node is None:
                raise worker.lost_error()
            outcome = NodeOutcome.ended(node, worker.lost_error(), worker.submitted, worker.label)
            self._replace(worker)
            return outcome
        if message[0] == READY:  # a replacement worker
            worker.ready = True
            self._free(worker)
            return None
        if message[0] != DONE or node is None:
            return None
        _, detached, packed, outputs = message
        assert isinstance(detached, NodeOutcome)
        if not self._timed:
            quick = detached.finished - detached.started < _QUICK
            self._depth = _QUICK_DEPTH if quick else _DEPTH
        self._blobs.update(outputs)
        worker.queue.pop(0)
        self._free(worker)
        if packed is not None:
            return detached.attached(node, unpack_error(packed), worker.label)
        self._count_loads(node)
        return detached.attached(node, None, worker.label)

    def _free(self, worker: WorkerHandle) -> None:
        worker.deadline = None
        while self._backlog and len(worker.queue) < self._depth:
            self.submit(self._backlog.pop(0))

    def _time_to_next_deadline(self) -> float | None:
        deadlines = [w.deadline for w in self._pool.workers if w.deadline is not None]
        return max(0.0, min(deadlines) - time.monotonic()) if deadlines else None

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
        # nodes it held but had not started go to the other workers.
        self._backlog[:0] = [node for node, _ in worker.queue[1:]]
        worker.queue.clear()
        self._pool.replace(worker)
        live = {blob.segment for blob in self._blobs.values() if blob.segment is not None}
        transport.sweep(f"{self.prefix}{worker.index}_", keep=live)

    def _count_loads(self, node: Node) -> None:
        for name in node.inputs:
            self._loads_left[name] -= 1
            if self._loads_left[name] == 0 and name in self._free_inputs:
                self._drop(name)  # the parent's copy of a free input nobody reads any more

    def release(self, names: Iterable[str]) -> None:
        """Unlink the released datasets' segments; release them in the caller's catalog."""
        for name in names:
            self._drop(name)
            self._context.catalog.release(name)

    def _drop(self, name: str) -> None:
        blob = self._blobs.pop(name, None)
        if blob is not None and blob.segment is not None:
            transport.unlink(blob.segment)

    def collect(self, names: Collection[str]) -> None:
        """Copy the in-memory free outputs out of shared memory into the caller's datasets."""
        for name in sorted(names):
            blob = self._blobs.get(name)
            if blob is not None:
                self._datasets[name].save(transport.load(blob))
                self._drop(name)

    # --- leaving ----------------------------------------------------------------------------

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
            for name in list(self._blobs):
                self._drop(name)
            transport.sweep(self.prefix)


def _prefix_for_run() -> str:
    # Short (macOS allows 30 characters), and unique to this process and run.
    return f"dw{os.getpid()}_{secrets.token_hex(3)}_"

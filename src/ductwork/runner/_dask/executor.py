"""``DaskExecutor``: the run loop's executor for a Dask cluster.

Each node becomes a Dask task (:func:`~ductwork.runner._dask.worker.run_node_task`) whose
arguments are the futures of the in-memory data it loads, so Dask's scheduler places it next to
its data. What every task needs besides reaches each worker once per run, in a worker plugin.

Work goes to Dask ahead of time (:mod:`.submissions`): every node whose dependencies Dask can see
is submitted on entering; a node that loads a persisted dataset another node writes is submitted
when the loop hands it out, with the nodes below it. With ``max_running`` nothing goes ahead
(Dask would run more at once), nor when the loop asks a gate about each node (an incremental run
may skip it). Outcomes arrive as worker events (:mod:`.outcomes`); those of nodes the loop has
not handed out yet are kept until it does, so releases, keep-going and observers see the usual
order. A loop that stops early has every worker let no node of the run begin, then hears what
ran ahead. In-memory data reaches the client only in :meth:`DaskExecutor.collect`.

Before anything is submitted, :func:`prepare_worker_run` sorts the datasets by the rule of
:mod:`ductwork.io.travel`: in-memory data moves between tasks as futures; every other dataset,
and any a node confirms, is shipped to the workers once per run and loaded and saved there.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Collection, Iterable
from contextlib import AbstractContextManager, ExitStack
from typing import Any

from distributed import Client

from ductwork.exceptions import NodeTimeoutError
from ductwork.execution import NodeOutcome
from ductwork.pipeline import Node
from ductwork.runner._dask.outcomes import Outcomes, task_error
from ductwork.runner._dask.plan import prepare_worker_run
from ductwork.runner._dask.submissions import Submissions
from ductwork.runner._dask.worker import RunPlugin, Unloadable, data_of, stop_run
from ductwork.runner.executors import RunContext

__all__ = ["DaskExecutor"]

_logger = logging.getLogger(__name__)

_POLL = 0.1  # seconds between looks at the futures of the nodes that are running
# Seconds between looks at the outcomes while they come several at a time and Dask has every
# node: the loop has nothing to hand it, so it gathers them instead of waking for each (see
# Outcomes.arrived). One at a time (a chain), it wakes for each: it lets go of a node's future
# as it hears of it, and that must reach the scheduler before the next node ends (see
# .submissions).
_GATHER = 0.01

Connect = Callable[[], AbstractContextManager[Client]]


class DaskExecutor:
    """Runs each node as a Dask task, keeping in-memory data on the workers.

    Entering checks that everything the run sends can be pickled, then connects (which may
    start a cluster), gives the workers what the run needs and hands the scheduler every node it
    can ahead of time. Leaving cancels what is still queued or running, drops every key of the
    run, and disconnects (closing a cluster it started).
    """

    def __init__(self, context: RunContext, connect: Connect, keep_going: bool = False) -> None:
        """Prepare to run ``context``'s pipeline on the client ``connect`` gives; with
        ``keep_going``, the loop runs on after a failure (see :class:`.Submissions`)."""
        self._context = context
        self._connect = connect
        self._keep_going = keep_going
        self._ahead = context.ahead
        self.capacity = max(1, len(context.pipeline.nodes))
        self._tag = f"{context.shell.run_id}#{secrets.token_hex(3)}"  # unique if ids repeat
        self._plugin = f"ductwork-run-{self._tag}"
        self._stack = ExitStack()
        self._client: Client | None = None
        self._sent = Submissions((), frozenset(), self._plugin, self._tag)  # until entered
        self._handed_out: set[Node] = set()  # by the loop, and not reported finished yet
        self._early: dict[Node, float] = {}  # finished before the loop handed them out
        self._ready: list[NodeOutcome] = []
        self._events = Outcomes()
        self._polled = 0.0  # when the futures of the handed-out nodes were last looked at
        self._last_batch = 0  # how many outcomes the loop was given last

    def __enter__(self) -> DaskExecutor:
        if not self._context.pipeline.nodes:
            return self  # nothing will run: no need for a cluster
        # Sort the run's datasets and check what must travel, before touching the cluster.
        run, memory = prepare_worker_run(self._context)
        nodes = self._context.pipeline.nodes
        self._sent = Submissions(nodes, memory, self._plugin, self._tag, self._keep_going)
        with ExitStack() as stack:
            client = self._client = stack.enter_context(self._connect())
            stack.enter_context(self._events.listening(client, self._plugin))
            client.register_plugin(RunPlugin(run, self._plugin))
            stack.callback(self._best_effort, client.unregister_worker_plugin, self._plugin)
            stack.callback(self._sent.clear)  # the scheduler forgets a key no future refers to
            stack.callback(self._early.clear)
            if self._ahead:
                self._sent.ahead(client, self._context.pipeline.nodes)
            self._stack = stack.pop_all()
        return self

    def __exit__(self, *_exc: object) -> None:
        with self._stack:
            held = [*self._sent.tasks.values(), *self._sent.data.values()]
            unfinished = [future for future in held if not future.done()]
            if self._client is not None and unfinished:
                # Stop what has not finished, and what depends on it. Dask cannot interrupt a
                # task that is already running; its result is dropped.
                self._best_effort(self._client.cancel, unfinished)

    def _best_effort(self, call: Callable[..., Any], *args: Any) -> Any:
        try:
            return call(*args)
        except Exception as error:  # a lost cluster must not hide the run's own error
            _logger.warning("Run %s: could not clean up on the cluster: %s", self._tag, error)
            return None

    def submit(self, node: Node) -> None:
        """Hand ``node`` to Dask unless it already has it; then the nodes it unblocks."""
        sent = self._sent
        sent.handed_out(node)
        if node not in sent.submitted:
            assert self._client is not None
            if self._ahead:
                sent.ahead(self._client, sent.consumers_of(node), given=node)
            else:
                sent.submit(self._client, [node])
        submitted = self._early.pop(node, None)
        if submitted is not None:
            self._ready.append(self._outcome(node, submitted))
        else:
            self._handed_out.add(node)

    def next_outcomes(self) -> list[NodeOutcome]:
        """Wait for a handed-out node to finish; return it with any others that finished.

        A node's task reports its end as a worker event (:mod:`.outcomes`); the futures the
        client holds are looked at too, every ``_POLL`` seconds, for tasks that end without one
        (a lost worker, a cancellation, a task that could not start: see
        :meth:`.Submissions.watch`)."""
        sent = self._sent
        sent.let_go()  # the loop has handled the outcomes it was given last
        tasks = sent.tasks
        wake = self._last_batch < 2 or len(sent.submitted) < len(self._context.pipeline.nodes)
        while not self._ready:
            for name in self._events.arrived(_POLL if wake else _GATHER, wake):
                self._arrived(name)
            if time.monotonic() - self._polled >= _POLL:
                self._polled = time.monotonic()
                sent.watch()
                ended = [
                    n.name
                    for n in self._handed_out
                    if (future := tasks.get(n)) is not None and future.status != "pending"
                ]
                for name in ended:
                    self._arrived(name)
        ready, self._ready = self._ready, []
        self._sent.reported(outcome.node for outcome in ready)
        self._last_batch = len(ready)
        return ready

    def _arrived(self, name: str) -> None:
        entry = self._sent.unfinished.pop(name, None)
        if entry is None:  # reported already
            return
        node, submitted = entry
        if not self._events.succeeded(name, self._sent.tasks.get(node)):
            self._sent.hold(node)  # its error is Dask's to tell: ask before anything is let go
        if node in self._handed_out:
            self._handed_out.discard(node)
            self._ready.append(self._outcome(node, submitted))
        else:
            # Dask ran it before the loop got to it. Its outcome is read when the loop does: a
            # failed node's dependants fail in Dask with its error, but the loop withdraws them,
            # and they must neither be reported nor restart a worker again.
            self._early[node] = submitted

    def _outcome(self, node: Node, submitted: float) -> NodeOutcome:
        if self._events.succeeded(node.name, self._sent.tasks.get(node)):
            return self._events.outcome(node, None, submitted)
        error = task_error(node, self._sent.hold(node))
        address = getattr(error, "worker_address", None)
        if isinstance(error, NodeTimeoutError) and address and self._client is not None:
            # The node's thread cannot be stopped inside the worker: restart the worker.
            self._best_effort(self._client.restart_workers, [address])
        return self._events.outcome(node, error, submitted, wait=False)

    def drain(self) -> tuple[set[Node], list[NodeOutcome]]:
        """When the loop stops early (Ctrl-C, a failure): let no node of the run begin any more;
        say what the loop was not told: the nodes Dask began before the loop handed them out,
        and the outcomes that had arrived (of successes: an error may still be on its way)."""
        arrived = self._events.arrived(0)  # what had happened when the loop stopped
        stopped_at = time.time()
        unfinished, tasks = self._sent.unfinished, self._sent.tasks
        client = self._client if unfinished else None
        stopped = self._best_effort(client.run, stop_run, self._plugin) if client else None
        began = {name for names, _held in (stopped or {}).values() for name in names}
        # What the workers held to send together, of the nodes that had finished by then.
        held = [m for _names, ms in (stopped or {}).values() for m in ms if m[3] <= stopped_at]
        if held:
            self._events.receive(held)
            arrived.extend(str(message[1]) for message in held)
        for name in arrived:
            self._arrived(name)
        done = [n for n in self._early if self._events.succeeded(n.name, tasks.get(n))]
        told = [*self._ready, *(self._outcome(n, self._early[n]) for n in done)]
        ahead = {*self._early, *(n for n, _ in unfinished.values() if n.name in began)}
        ahead -= self._handed_out
        self._ready = []
        self._early.clear()
        return ahead, told

    def release(self, names: Iterable[str]) -> None:
        """Drop the futures of ``names`` (the cluster frees them) and release them locally."""
        names = list(names)
        self._sent.let_go(names)  # their producers: the loop has told its observer of their ends
        for name in names:
            future = self._sent.data.pop(name, None)
            if future is not None:
                future.release()
            self._context.catalog.release(name)

    def collect(self, names: Collection[str]) -> None:
        """Fetch the in-memory free outputs and save them into the caller's catalog."""
        data = self._sent.data
        wanted = [name for name in names if name in data]
        if not wanted or self._client is None:
            return
        values = self._client.gather([data[name] for name in wanted])
        for name, value in zip(wanted, map(data_of, values, wanted), strict=True):
            if not isinstance(value, Unloadable):
                self._context.catalog.save(name, value)

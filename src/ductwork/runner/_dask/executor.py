"""``DaskExecutor``: the run loop's executor for a Dask cluster.

Each node becomes a Dask task (:func:`~ductwork.runner._dask.worker.run_node_task`) whose
arguments are the futures of the in-memory data it loads, so Dask's scheduler places it next to
its data. What every task needs besides reaches each worker once per run, in a worker plugin.

Work goes to Dask ahead of time, as one graph: every node whose dependencies Dask can see (the
in-memory data it loads) is submitted on entering, so the scheduler starts each task as soon as
its inputs exist, without a round trip through the run loop. A node that loads a persisted
dataset another node writes is submitted when the loop hands it out (its producers are done),
with the nodes below it. With ``max_running`` nothing goes ahead (Dask would run more at once),
nor when the loop asks a gate about each node (an incremental run may skip it).
Outcomes arrive as worker events (:mod:`.outcomes`); those of nodes the loop has not handed out
yet are kept until it does, so releases, keep-going and observers see the usual order. A loop
that stops early has every worker let no node of the run begin, then hears what ran ahead.

Every dataset needs a key of its own, to be freed on its own: a node with one in-memory output
gives it the node's key; a node with several is followed by one small task per output.
In-memory data reaches the client only in :meth:`DaskExecutor.collect`. Keys read
``("node:<name>", "<run id>#<tag>")`` and ``("data:<dataset>", ...)``.

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

from dask.typing import Key
from distributed import Client, Future

from ductwork.exceptions import NodeTimeoutError
from ductwork.execution import NodeOutcome
from ductwork.pipeline import Node
from ductwork.pipeline.transcoding import strip_transcoding
from ductwork.runner._dask.outcomes import Outcomes, task_error
from ductwork.runner._dask.plan import prepare_worker_run
from ductwork.runner._dask.worker import (
    RunPlugin,
    Unloadable,
    data_of,
    output_of,
    run_node_task,
    stop_run,
)
from ductwork.runner.executors import RunContext

__all__ = ["DaskExecutor"]

_logger = logging.getLogger(__name__)

FORWARDED_LOGGER = "ductwork"
_POLL = 0.1  # seconds between looks at the futures of the nodes that are running

Connect = Callable[[], AbstractContextManager[Client]]


class DaskExecutor:
    """Runs each node as a Dask task, keeping in-memory data on the workers.

    Entering checks that everything the run sends can be pickled, then connects (which may
    start a cluster), gives the workers what the run needs and hands the scheduler every node it
    can ahead of time. Leaving cancels what is still queued or running, drops every key of the
    run, and disconnects (closing a cluster it started).
    """

    def __init__(self, context: RunContext, connect: Connect) -> None:
        """Prepare to run ``context``'s pipeline on the client ``connect`` gives."""
        self._context = context
        self._connect = connect
        self._ahead = context.ahead
        self.capacity = max(1, len(context.pipeline.nodes))
        self._tag = f"{context.shell.run_id}#{secrets.token_hex(3)}"  # unique if ids repeat
        self._plugin = f"ductwork-run-{self._tag}"
        self._stack = ExitStack()
        self._client: Client | None = None
        self._memory: frozenset[str] = frozenset()
        # By base name: a node reading ``x@frame`` depends on the node writing ``x@pandas``.
        self._produced = frozenset(
            strip_transcoding(n) for node in context.pipeline.nodes for n in node.outputs
        )
        self._loaders: dict[str, list[Node]] = {}
        for node in context.pipeline.nodes:
            for name in dict.fromkeys(node.inputs):
                self._loaders.setdefault(name, []).append(node)
        self._data: dict[str, Future[Any]] = {}
        self._tasks: dict[Node, Future[Any]] = {}  # every node handed to Dask, by node
        self._unfinished: dict[str, tuple[Node, float]] = {}  # by name: when it was submitted
        self._handed_out: set[Node] = set()  # by the loop, and not reported finished yet
        self._early: dict[Node, float] = {}  # finished before the loop handed them out
        self._ready: list[NodeOutcome] = []
        self._events = Outcomes()
        self._polled = 0.0  # when the futures of the handed-out nodes were last looked at

    def __enter__(self) -> DaskExecutor:
        if not self._context.pipeline.nodes:
            return self  # nothing will run: no need for a cluster
        # Sort the run's datasets and check what must travel, before touching the cluster.
        run, self._memory = prepare_worker_run(self._context)
        with ExitStack() as stack:
            client = self._client = stack.enter_context(self._connect())
            stack.enter_context(self._events.listening(client, self._plugin))
            client.register_plugin(RunPlugin(run, self._plugin))
            stack.callback(self._best_effort, client.unregister_worker_plugin, self._plugin)
            # ductwork's warnings on the workers (retries, failed nodes) reach the caller's
            # logging, as they do from the other runners.
            client.forward_logging(FORWARDED_LOGGER, level=logging.WARNING)
            stack.callback(self._best_effort, client.unforward_logging, FORWARDED_LOGGER)
            for held in (self._tasks, self._early, self._data):
                stack.callback(held.clear)  # the scheduler forgets a key no future refers to
            if self._ahead:
                self._submit_ahead(self._context.pipeline.nodes)
            self._stack = stack.pop_all()
        return self

    def __exit__(self, *_exc: object) -> None:
        with self._stack:
            unfinished = [f for f in self._tasks.values() if not f.done()]
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

    def _submit_ahead(self, nodes: Iterable[Node], given: Node | None = None) -> None:
        """Submit ``given``, then each of ``nodes`` whose inputs Dask can wait for, then the nodes
        that this lets through, all in one graph.

        Dask knows a node's dependencies only through the futures of the in-memory data it loads:
        a node that loads a persisted dataset another node writes, or whose producers are not
        submitted yet, waits for the run loop to hand it out.
        """
        batch: list[Node] = []
        planned: set[Node] = set()
        available = set(self._data)
        waiting = list(reversed(list(nodes)))  # a stack: the first node on top
        if given is not None:
            waiting.append(given)
        while waiting:
            node = waiting.pop()
            if node in self._tasks or node in planned:
                continue
            if node is given or all(
                name in available
                for name in node.inputs
                if strip_transcoding(name) in self._produced
            ):
                batch.append(node)
                planned.add(node)
                available.update(name for name in node.outputs if name in self._memory)
                waiting.extend(reversed(self._consumers_of(node)))
        if batch:
            self._submit(batch)

    def _consumers_of(self, node: Node) -> list[Node]:
        loaders = self._loaders
        return list(dict.fromkeys(c for name in node.outputs for c in loaders.get(name, ())))

    def _submit(self, batch: list[Node]) -> None:
        """Hand Dask ``batch`` (in topological order) as one graph: a task per node, and one per
        in-memory output of a node that has several, picking that output's data."""
        assert self._client is not None
        graph: dict[Key, Any] = {}
        refs: dict[str, Any] = dict(self._data)  # dataset -> its future, or its key in the graph
        wanted: list[Key] = []
        for node in batch:
            inputs = tuple(dict.fromkeys(name for name in node.inputs if name in refs))
            key = self._key("node", node.name)
            data = (refs[name] for name in inputs)
            graph[key] = (run_node_task, self._plugin, node.name, inputs, *data)
            wanted.append(key)
            outputs = [name for name in node.outputs if name in self._memory]
            if len(outputs) == 1:  # the node's result holds just that data: no need to pick it
                refs[outputs[0]] = key
                continue
            for name in outputs:
                refs[name] = self._key("data", name)
                graph[refs[name]] = (output_of, key, name)
                wanted.append(refs[name])
        futures = dict(zip(wanted, self._client.get(graph, wanted, sync=False), strict=True))
        submitted = time.time()
        for node in batch:
            self._tasks[node] = futures[self._key("node", node.name)]
            self._unfinished[node.name] = (node, submitted)
        self._data.update({name: futures[r] for name, r in refs.items() if name not in self._data})

    def _key(self, kind: str, name: str) -> tuple[str, str]:
        return (f"{kind}:{name}", self._tag)

    def submit(self, node: Node) -> None:
        """Hand ``node`` to Dask unless it already has it; then the nodes it unblocks."""
        if node not in self._tasks:
            if self._ahead:
                self._submit_ahead(self._consumers_of(node), given=node)
            else:
                self._submit([node])
        submitted = self._early.pop(node, None)
        if submitted is not None:
            self._ready.append(self._outcome(node, submitted))
        else:
            self._handed_out.add(node)

    def next_outcomes(self) -> list[NodeOutcome]:
        """Wait for a handed-out node to finish; return it with any others that finished.

        A node's task reports its end as a worker event (:mod:`.outcomes`); the futures of the
        handed-out nodes are looked at too, every ``_POLL`` seconds, for tasks that end without
        one (a lost worker, a cancellation, a task that could not start)."""
        while not self._ready:
            for name in self._events.arrived(_POLL):
                self._arrived(name)
            if time.monotonic() - self._polled >= _POLL:
                self._polled = time.monotonic()
                ended = [n.name for n in self._handed_out if self._tasks[n].status != "pending"]
                for name in ended:
                    self._arrived(name)
        ready, self._ready = self._ready, []
        return ready

    def _arrived(self, name: str) -> None:
        entry = self._unfinished.pop(name, None)
        if entry is None:  # reported already
            return
        node, submitted = entry
        if node in self._handed_out:
            self._handed_out.discard(node)
            self._ready.append(self._outcome(node, submitted))
        else:
            # Dask ran it before the loop got to it. Its outcome is read when the loop does: a
            # failed node's dependants fail in Dask with its error, but the loop withdraws them,
            # and they must neither be reported nor restart a worker again.
            self._early[node] = submitted

    def _outcome(self, node: Node, submitted: float) -> NodeOutcome:
        future = self._tasks[node]
        if self._events.succeeded(node.name, future):
            return self._events.outcome(node, None, submitted)
        error = task_error(node, future)
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
        client = self._client if self._unfinished else None
        stopped = self._best_effort(client.run, stop_run, self._plugin) if client else None
        began = {name for names in (stopped or {}).values() for name in names}
        for name in arrived:
            self._arrived(name)
        done = [n for n in self._early if self._events.succeeded(n.name, self._tasks[n])]
        told = [*self._ready, *(self._outcome(n, self._early[n]) for n in done)]
        ahead = {*self._early, *(n for n, _ in self._unfinished.values() if n.name in began)}
        ahead -= self._handed_out
        self._ready = []
        self._early.clear()
        return ahead, told

    def release(self, names: Iterable[str]) -> None:
        """Drop the futures of ``names`` (the cluster frees them) and release them locally."""
        for name in names:
            future = self._data.pop(name, None)
            if future is not None:
                future.release()
            self._context.catalog.release(name)

    def collect(self, names: Collection[str]) -> None:
        """Fetch the in-memory free outputs and save them into the caller's catalog."""
        wanted = [name for name in names if name in self._data]
        if not wanted or self._client is None:
            return
        values = self._client.gather([self._data[name] for name in wanted])
        for name, value in zip(wanted, map(data_of, values, wanted), strict=True):
            if not isinstance(value, Unloadable):
                self._context.catalog.save(name, value)

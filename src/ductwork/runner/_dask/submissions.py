"""What a Dask run has handed the scheduler: the graph of its nodes, and the futures it holds.

Work goes to Dask ahead of time, as one graph: every node whose dependencies Dask can see (the
in-memory data it loads) is submitted together, so the scheduler starts each task as soon as
its inputs exist, without a round trip through the run loop. A node that loads a persisted
dataset another node writes waits for the loop, with the nodes below it.

Every dataset needs a key of its own, to be freed on its own: a node with one in-memory output
gives it the node's key; a node with several is followed by one small task per output. Keys read
``("node:<name>", "<run id>#<tag>")`` and ``("data:<dataset>", ...)``.

The client holds few futures: as many as Dask needs to keep the graph wanted, not one per node.
A node's outcome comes as an event of its worker, so the client needs no future of its own to
hear of it. It holds the future of each *leaf* of what Dask has (a node no task depends on):
every other node's task leads to a leaf, and an error or a cancellation reaches the leaves
below, so the leaves tell of a node that ends without an outcome (a lost worker, a task that
could not start); then, and for a node whose outcome says it failed (its error is Dask's to
tell), the client holds that node's future too. A leaf's future is let go once the loop has
heard of its end and handed out every node that loads its data. A dataset's future keeps its
data for what the scheduler cannot see yet: a node that loads it and is not submitted, or the
caller (a free output, fetched at the end); the loop releases it. Data that only submitted
nodes load is held by the scheduler for them, and freed as the last of them finishes, in the
same message to the worker as the next task, as Dask does for its own graphs. Without a future
per node, nothing per node passes between the client and the scheduler but the outcome event.

A run that keeps going after a failure holds every node's future: when a node fails, Dask
fails the tasks below it, and a task that only a failed one waits for is released unrun; the
loop still wants it if it is on another branch.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable
from typing import Any

from dask.typing import Key
from distributed import Client, Future

from ductwork.pipeline import Node
from ductwork.pipeline.transcoding import strip_transcoding
from ductwork.runner._dask.worker import output_of, run_node_task

__all__ = ["Submissions"]

try:  # the graph expression Client.get wraps a task dictionary in (Dask 2025.1 and later)
    from dask._expr import LLGExpr as _GraphExpr
except ImportError:  # pragma: no cover - an older Dask: hand it the dictionary
    _GraphExpr = None  # type: ignore[assignment, misc]


class Submissions:
    """The nodes of one run handed to Dask, and the futures held for them.

    Attributes:
        submitted: The nodes handed to Dask.
        tasks: The futures held of nodes: the leaves of what Dask has (let go once their ends
            are reported), and the nodes Dask must tell the end of (see :meth:`watch`).
        data: The futures of the in-memory datasets still needed by a node not handed to Dask
            yet or by the caller, by name.
        unfinished: The nodes whose ends have not arrived, by name, with when they were
            submitted.
    """

    def __init__(
        self,
        nodes: Iterable[Node],
        memory: frozenset[str],
        plugin: str,
        tag: str,
        every: bool = False,
    ):
        """Prepare to submit ``nodes`` (the run's) whose in-memory datasets are ``memory``;
        with ``every``, hold the future of every node, not only of the leaves (see the module's
        note: a run that keeps going after a failure needs the other nodes wanted)."""
        nodes = list(nodes)
        self._every = every
        self._memory = memory
        self._plugin = plugin
        self._tag = tag
        self._loaders: dict[str, list[Node]] = {}
        self._producers: dict[str, Node] = {}
        for node in nodes:
            for name in dict.fromkeys(node.inputs):
                self._loaders.setdefault(name, []).append(node)
            self._producers.update(dict.fromkeys(node.outputs, node))
        # By base name: a node reading ``x@frame`` depends on the node writing ``x@pandas``.
        self._produced = frozenset(strip_transcoding(name) for name in self._producers)
        self.submitted: set[Node] = set()
        self.tasks: dict[Node, Future[Any]] = {}
        self.data: dict[str, Future[Any]] = {}
        self.unfinished: dict[str, tuple[Node, float]] = {}
        self._unhanded = {node: len(self.consumers_of(node)) for node in nodes}  # readers
        self._reported: dict[Node, None] = {}  # reported, some reader not handed out yet
        self._releasable: list[Node] = []  # reported, every reader handed out
        self._client: Client | None = None
        self._batches = itertools.count()

    def ahead(self, client: Client, nodes: Iterable[Node], given: Node | None = None) -> None:
        """Submit ``given``, then each of ``nodes`` whose inputs Dask can wait for, then the nodes
        that this lets through, all in one graph.

        Dask knows a node's dependencies only through the futures of the in-memory data it loads:
        a node that loads a persisted dataset another node writes, or whose producers are not
        submitted yet, waits for the run loop to hand it out.
        """
        batch: list[Node] = []
        planned: set[Node] = set()
        available = set(self.data)
        waiting = list(reversed(list(nodes)))  # a stack: the first node on top
        if given is not None:
            waiting.append(given)
        while waiting:
            node = waiting.pop()
            if node in self.submitted or node in planned:
                continue
            if node is given or all(
                name in available
                for name in node.inputs
                if strip_transcoding(name) in self._produced
            ):
                batch.append(node)
                planned.add(node)
                available.update(name for name in node.outputs if name in self._memory)
                waiting.extend(reversed(self.consumers_of(node)))
        if batch:
            self.submit(client, batch)

    def consumers_of(self, node: Node) -> list[Node]:
        """The nodes that load an output of ``node``."""
        loaders = self._loaders
        return list(dict.fromkeys(c for name in node.outputs for c in loaders.get(name, ())))

    def submit(self, client: Client, batch: list[Node]) -> None:
        """Hand Dask ``batch`` (in topological order) as one graph: a task per node, and one per
        in-memory output of a node that has several, picking that output's data."""
        graph: dict[Key, Any] = {}
        refs: dict[str, Any] = dict(self.data)  # dataset -> its future, or its key in the graph
        kept: dict[str, Key] = {}  # the new datasets whose futures are held
        depended: set[Key] = set()  # the keys a task of the batch depends on
        submitting = {*self.submitted, *batch}
        for node in batch:
            inputs = tuple(dict.fromkeys(name for name in node.inputs if name in refs))
            key = self._key("node", node.name)
            data = [refs[name] for name in inputs]
            depended.update(ref for ref in data if not isinstance(ref, Future))
            graph[key] = (run_node_task, self._plugin, node.name, inputs, *data)
            outputs = [name for name in node.outputs if name in self._memory]
            for name in outputs:
                # With one output, the node's result holds just that data: no need to pick it.
                refs[name] = key if len(outputs) == 1 else self._key("data", name)
                if refs[name] != key:
                    graph[refs[name]] = (output_of, key, name)
                    depended.add(key)
                loaders = self._loaders.get(name)
                if not loaders or not submitting.issuperset(loaders):
                    kept[name] = refs[name]
        leaves = [n for n in batch if self._every or self._key("node", n.name) not in depended]
        wanted = [*(self._key("node", n.name) for n in leaves), *kept.values()]
        wanted = list(dict.fromkeys(wanted))
        futures = dict(zip(wanted, client.get(self._named(graph), wanted, sync=False), strict=True))
        submitted = time.time()
        self._client = client
        self.submitted.update(batch)
        for node in batch:
            self.unfinished[node.name] = (node, submitted)
        for node in leaves:
            self.tasks[node] = futures[self._key("node", node.name)]
        for name, ref in kept.items():  # a future of its own: the node's goes sooner
            self.data[name] = Future(ref, client)

    def _named(self, graph: dict[Key, Any]) -> Any:
        """``graph`` as Dask's graph expression, named for this run's batch: given a dictionary,
        ``Client.get`` names it by a hash of every task in it, which pickles each task's
        function again (a 500-node graph: 30-90 ms of the run's start, ~5 ms with the name)."""
        if _GraphExpr is None:
            return graph
        return _GraphExpr(graph, _determ_token=f"ductwork-{self._tag}-{next(self._batches)}")

    def hold(self, node: Node) -> Future[Any]:
        """The future of ``node``, held from now on if it was not (its end is Dask's to tell)."""
        future = self.tasks.get(node)
        if future is None:
            client, key = self._client, self._key("node", node.name)
            assert client is not None
            future = self.tasks[node] = Future(key, client)
            # A future made from a key does not tell the scheduler that this client wants the
            # key; ``client.get`` does, and so does this message (as ``fire_and_forget`` sends
            # it): the scheduler then reports the key's state, an error with its traceback.
            client._send_to_scheduler({"op": "client-desires-keys", "keys": [key]})
        return future

    def watch(self) -> None:
        """If a held future ended in an error or was cancelled, hold the future of every node
        whose end has not arrived: a node that ends without an outcome (its worker lost, a task
        that could not start, a cancellation) takes the leaves below it with it."""
        ended = {f.status: f for f in (*self.tasks.values(), *self.data.values()) if f.done()}
        if "cancelled" in ended:  # what only it wanted is forgotten: it stands for those
            for node, _submitted in self.unfinished.values():
                self.tasks.setdefault(node, ended["cancelled"])
        elif "error" in ended:
            for node, _submitted in self.unfinished.values():
                self.hold(node)

    def _key(self, kind: str, name: str) -> tuple[str, str]:
        return (f"{kind}:{name}", self._tag)

    def reported(self, nodes: Iterable[Node]) -> None:
        """The loop is being told how ``nodes`` ended: their futures may go after that."""
        for node in nodes:
            if node not in self.tasks:
                continue  # no future held: nothing to let go
            if self._unhanded[node]:
                self._reported[node] = None  # until the loop hands out its readers
            else:
                self._releasable.append(node)

    def handed_out(self, node: Node) -> None:
        """The loop has handed ``node`` out."""
        producers = (self._producers[name] for name in node.inputs if name in self._producers)
        for producer in dict.fromkeys(producers):
            self._unhanded[producer] -= 1
            if not self._unhanded[producer] and producer in self._reported:
                del self._reported[producer]
                self._releasable.append(producer)

    def let_go(self, released: Iterable[str] | None = None) -> None:
        """Drop the futures of the nodes whose ends the loop has handled and whose readers it has
        all handed out, and, with ``released``, of the producers of those datasets (their
        readers are done)."""
        nodes, self._releasable = self._releasable, []
        for name in released or ():
            producer = self._producers.get(name)
            if producer in self._reported:
                del self._reported[producer]
                nodes.append(producer)
        for node in nodes:
            future = self.tasks.pop(node, None)
            if future is not None:
                future.release()

    def clear(self) -> None:
        """Drop every future: the scheduler forgets a key no future refers to."""
        self.submitted.clear()
        self.tasks.clear()
        self.data.clear()
        self._reported.clear()
        self._releasable.clear()

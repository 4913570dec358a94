"""What a Dask run has handed the scheduler: the graph of its nodes, and the futures it holds.

Work goes to Dask ahead of time, as one graph: every node whose dependencies Dask can see (the
in-memory data it loads) is submitted together, so the scheduler starts each task as soon as
its inputs exist, without a round trip through the run loop. A node that loads a persisted
dataset another node writes waits for the loop, with the nodes below it.

Every dataset needs a key of its own, to be freed on its own: a node with one in-memory output
gives it the node's key; a node with several is followed by one small task per output. Keys read
``("node:<name>", "<run id>#<tag>")`` and ``("data:<dataset>", ...)``.

The client holds two kinds of future. A node's future tells how its task ended; it is let go once
the loop has heard of that end and has handed out every node that loads its data (until then
that data is needed anyway; on a fan the many releases come while the last node runs, not while
the scheduler is busiest). A dataset's future keeps its data for what the scheduler cannot
see yet: a node that loads it and is not submitted, or the caller (a free output, fetched at the
end); the loop releases it. Data that only submitted nodes load is held by the scheduler for
them, and freed as the last of them finishes, in the same message to the worker as the next
task, as Dask does for its own graphs: a release of the client's would be one more message, and
the worker's next task would wait for the batch after it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from dask.typing import Key
from distributed import Client, Future

from ductwork.pipeline import Node
from ductwork.pipeline.transcoding import strip_transcoding
from ductwork.runner._dask.worker import output_of, run_node_task

__all__ = ["Submissions"]


class Submissions:
    """The nodes of one run handed to Dask, and the futures held for them.

    Attributes:
        tasks: The future of each node handed to Dask (let go once its end is reported).
        data: The futures of the in-memory datasets still needed by a node not handed to Dask
            yet or by the caller, by name.
        unfinished: The nodes whose ends have not arrived, by name, with when they were
            submitted.
    """

    def __init__(self, nodes: Iterable[Node], memory: frozenset[str], plugin: str, tag: str):
        """Prepare to submit ``nodes`` (the run's) whose in-memory datasets are ``memory``."""
        nodes = list(nodes)
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
        self.tasks: dict[Node, Future[Any]] = {}
        self.data: dict[str, Future[Any]] = {}
        self.unfinished: dict[str, tuple[Node, float]] = {}
        self._unhanded = {node: len(self.consumers_of(node)) for node in nodes}  # readers
        self._reported: dict[Node, None] = {}  # reported, some reader not handed out yet
        self._releasable: list[Node] = []  # reported, every reader handed out

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
            if node in self.tasks or node in planned:
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
        submitting = {*self.tasks, *batch}
        for node in batch:
            inputs = tuple(dict.fromkeys(name for name in node.inputs if name in refs))
            key = self._key("node", node.name)
            data = (refs[name] for name in inputs)
            graph[key] = (run_node_task, self._plugin, node.name, inputs, *data)
            outputs = [name for name in node.outputs if name in self._memory]
            for name in outputs:
                # With one output, the node's result holds just that data: no need to pick it.
                refs[name] = key if len(outputs) == 1 else self._key("data", name)
                if refs[name] != key:
                    graph[refs[name]] = (output_of, key, name)
                loaders = self._loaders.get(name)
                if not loaders or not submitting.issuperset(loaders):
                    kept[name] = refs[name]
        wanted = list(dict.fromkeys([*(self._key("node", n.name) for n in batch), *kept.values()]))
        futures = dict(zip(wanted, client.get(graph, wanted, sync=False), strict=True))
        submitted = time.time()
        for node in batch:
            self.tasks[node] = futures[self._key("node", node.name)]
            self.unfinished[node.name] = (node, submitted)
        for name, ref in kept.items():  # a future of its own: the node's goes sooner
            self.data[name] = Future(ref, client)

    def _key(self, kind: str, name: str) -> tuple[str, str]:
        return (f"{kind}:{name}", self._tag)

    def reported(self, nodes: Iterable[Node]) -> None:
        """The loop is being told how ``nodes`` ended: their futures may go after that."""
        for node in nodes:
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
            self.tasks[node].release()

    def clear(self) -> None:
        """Drop every future: the scheduler forgets a key no future refers to."""
        self.tasks.clear()
        self.data.clear()
        self._reported.clear()
        self._releasable.clear()

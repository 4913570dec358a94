"""The scheduler: which nodes may start now, and which datasets may be released now.

It follows the protocol of :class:`graphlib.TopologicalSorter`: :meth:`Scheduler.get_ready` hands
out the nodes whose producers have all finished, :meth:`Scheduler.done` records a finished node,
:meth:`Scheduler.is_active` says whether anything is left. It is pure: no threads, no catalog, no
I/O, so the same object drives every runner and is tested on its own.

Cost. Each node keeps a counter of unfinished parents; finishing a node decrements its children's
counters, and a counter reaching zero makes that child ready. Each dataset keeps a counter of loads
still to come; finishing a node decrements the counters of its inputs. So a completion costs
O(edges of that node): there is no scan of the waiting nodes, and the per-node cost does not grow
with the pipeline.

Order. Ready nodes come out by their index in the topological order the scheduler was built with,
smallest first (a heap), never in set-iteration order. Run one at a time, the nodes therefore run
exactly in that order; run concurrently, ties are broken the same way in every run.

Release. A dataset may be released once the last node that loads it has finished, unless it is
one of the ``keep`` names (the pipeline's free inputs and outputs, which belong to the caller). An
output nobody loads is released right after its producer finishes, which is what a transcoded
output (saved as ``x@a``, loaded as ``x@b``) needs.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Collection

from ductwork.pipeline import Node
from ductwork.pipeline.graph import PipelineGraph

__all__ = ["Scheduler"]


class Scheduler:
    """Hands out ready nodes in a deterministic order and tracks releasable datasets."""

    def __init__(self, graph: PipelineGraph, keep: Collection[str] = ()) -> None:
        """Prepare to schedule the nodes of ``graph``.

        Args:
            graph: The pipeline's graph (``pipeline.graph``): its nodes in topological order.
            keep: Dataset names never to release (``pipeline.inputs() | pipeline.outputs()``).
        """
        self._graph = graph
        # Node -> position, without going through names: done() looks it up for every node.
        self._index = {node: i for i, node in enumerate(graph.nodes)}
        self._waiting_on = [len(graph.parent_positions(i)) for i in range(len(graph))]
        self._ready = [i for i, count in enumerate(self._waiting_on) if count == 0]
        heapq.heapify(self._ready)
        self._loads_left = Counter(name for node in graph.nodes for name in node.input_names)
        self._keep = frozenset(keep)
        self._running: set[int] = set()
        self._withdrawn: set[int] = set()
        self._unfinished = len(graph)

    def is_active(self) -> bool:
        """Tell whether any node is still to be handed out or still running."""
        return self._unfinished > 0

    def get_ready(self, limit: int | None = None) -> list[Node]:
        """Return the nodes that may start now, smallest topological index first.

        Args:
            limit: Return at most this many (the free slots of the caller); the others stay
                ready, ahead of any node that becomes ready later with a larger index.

        Each node is returned once; it is then "running" until :meth:`done` or :meth:`failed`.
        """
        ready: list[Node] = []
        count = len(self._ready) if limit is None else min(limit, len(self._ready))
        for _ in range(count):
            index = heapq.heappop(self._ready)
            self._running.add(index)
            ready.append(self._graph.nodes[index])
        return ready

    def running(self) -> list[Node]:
        """The nodes handed out and not yet reported, in topological order."""
        return [self._graph.nodes[i] for i in sorted(self._running)]

    def done(self, node: Node) -> list[str]:
        """Record that ``node`` finished; return the dataset names that may be released now.

        Raises:
            ValueError: ``node`` was not handed out by :meth:`get_ready`, or was reported before.
        """
        index = self._take_running(node)
        for child in self._graph.child_positions(index):
            self._waiting_on[child] -= 1
            if self._waiting_on[child] == 0:
                heapq.heappush(self._ready, child)
        return self._releasable(node)

    def failed(self, node: Node) -> list[Node]:
        """Record that ``node`` failed; withdraw every node downstream of it.

        Returns:
            The withdrawn nodes (which will never be handed out), in topological order. Nodes
            already running are not withdrawn: they finish and are reported as usual.
        """
        index = self._take_running(node)
        withdrawn = self._withdraw_downstream(index)
        self._unfinished -= len(withdrawn)
        return [self._graph.nodes[i] for i in sorted(withdrawn)]

    def _take_running(self, node: Node) -> int:
        index = self._index.get(node)
        if index is None or index not in self._running:
            raise ValueError(f"Node {node.name!r} is not running, so it cannot be reported.")
        self._running.remove(index)
        self._unfinished -= 1
        return index

    def _releasable(self, node: Node) -> list[str]:
        released: list[str] = []
        loads_left = self._loads_left
        for name in node.input_names:
            loads_left[name] -= 1
            if loads_left[name] == 0 and name not in self._keep:
                released.append(name)
        released.extend(
            name for name in node.output_names if loads_left[name] <= 0 and name not in self._keep
        )
        return released

    def _withdraw_downstream(self, index: int) -> set[int]:
        # A child can only be waiting (it has an unfinished parent: this one), so withdrawing
        # never touches a node that is ready or running. A node below two failures is
        # withdrawn once.
        withdrawn: set[int] = set()
        stack = list(self._graph.child_positions(index))
        while stack:
            child = stack.pop()
            if child not in withdrawn and child not in self._withdrawn:
                withdrawn.add(child)
                stack.extend(self._graph.child_positions(child))
        self._withdrawn |= withdrawn
        return withdrawn

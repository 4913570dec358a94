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
        nodes = graph.nodes
        self._nodes = nodes
        self._children = graph.all_child_positions
        # Node -> position, without going through names: done() looks it up for every node.
        self._index = {node: i for i, node in enumerate(nodes)}
        self._waiting_on = list(map(len, graph.all_parent_positions))
        self._ready = [i for i, count in enumerate(self._waiting_on) if count == 0]
        heapq.heapify(self._ready)
        # Loads still to come, per dataset that may be released: the kept names are never
        # released, so they are not counted at all.
        loads: dict[str, int] = {}
        for node in nodes:
            for name in node.input_names:
                loads[name] = loads.get(name, 0) + 1
        self._keep = frozenset(keep)
        for name in self._keep:
            loads.pop(name, None)
        self._loads_left = loads
        self._running: set[int] = set()
        self._withdrawn: set[int] = set()
        self._unfinished = len(nodes)

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
        heap, running, nodes = self._ready, self._running, self._nodes
        count = len(heap) if limit is None else min(limit, len(heap))
        ready: list[Node] = []
        for _ in range(count):
            index = heapq.heappop(heap)
            running.add(index)
            ready.append(nodes[index])
        return ready

    def running(self) -> list[Node]:
        """The nodes handed out and not yet reported, in topological order."""
        return [self._nodes[i] for i in sorted(self._running)]

    def done(self, node: Node) -> list[str]:
        """Record that ``node`` finished; return the dataset names that may be released now.

        Raises:
            ValueError: ``node`` was not handed out by :meth:`get_ready`, or was reported before.
        """
        index = self._take_running(node)
        waiting_on = self._waiting_on
        for child in self._children[index]:
            waiting_on[child] -= 1
            if not waiting_on[child]:
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
        return [self._nodes[i] for i in sorted(withdrawn)]

    def _take_running(self, node: Node) -> int:
        index = self._index.get(node, -1)  # -1: never running
        try:
            self._running.remove(index)
        except KeyError:
            raise ValueError(
                f"Node {node.name!r} is not running, so it cannot be reported."
            ) from None
        self._unfinished -= 1
        return index

    def _releasable(self, node: Node) -> list[str]:
        released: list[str] = []
        loads_left = self._loads_left
        for name in node.input_names:
            left = loads_left.get(name)
            if left is not None:  # None: a kept name
                loads_left[name] = left - 1
                if left == 1:
                    released.append(name)
        # An output nobody loads is released as soon as it is written.
        for name in node.output_names:
            if name not in loads_left and name not in self._keep:
                released.append(name)
        return released

    def _withdraw_downstream(self, index: int) -> set[int]:
        # A child can only be waiting (it has an unfinished parent: this one), so withdrawing
        # never touches a node that is ready or running. A node below two failures is
        # withdrawn once.
        withdrawn: set[int] = set()
        stack = list(self._children[index])
        while stack:
            child = stack.pop()
            if child not in withdrawn and child not in self._withdrawn:
                withdrawn.add(child)
                stack.extend(self._children[child])
        self._withdrawn |= withdrawn
        return withdrawn

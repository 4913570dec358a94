"""Sending a worker the next links of a chain before the run loop hands them out.

When the only unfinished producers of a node are queued on one worker, that worker can run the
node right after them, reading their in-memory outputs from its own memory, instead of
reporting to the parent and waiting for it to send the node: a chain on one worker then runs
without a round trip through the parent per link. The worker is told which nodes the sent one
follows; it runs it only if they all succeeded there, and otherwise answers without running it
(no hook fires). The parent keeps the outcome of a node that finished before the loop handed it
out until the loop does (a node downstream of a failure never is: the loop withdraws it). When a
worker dies, the node it ran fails with :class:`~ductwork.exceptions.WorkerLostError`, sent
ahead or not; the nodes sent ahead that it held behind that one are forgotten, and sent again
when the loop hands them out.

Observers learn of a node sent ahead when the loop hands it out. If the loop stops first (Ctrl-C,
a failure), :meth:`Ahead.untold` says what they were not told: the nodes sent ahead that ran, and
those that run now (the first a worker holds, unless a node before it failed), so that the run
journal does not call a node that ran "not run". Never with time limits (they count from a
node's sending) nor with ``max_running`` (the workers would run more at once than allowed).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator

from ductwork.execution import NodeOutcome
from ductwork.pipeline import Node, Pipeline

__all__ = ["Ahead"]


class Ahead:
    """Which nodes of one run may be sent ahead, and which were."""

    def __init__(self, pipeline: Pipeline, enabled: bool) -> None:
        self.enabled = enabled
        self.started: set[Node] = set()  # sent to a worker (or the backlog), or finished
        self.sent: set[Node] = set()  # sent before the loop handed them out
        self.early: dict[Node, NodeOutcome] = {}  # finished before the loop handed them out
        # By position in the pipeline's graph, which knows each node's producers and loaders
        # (by base name: a node reading ``x@spark`` waits for the node writing ``x@pandas``).
        graph = pipeline.graph
        self._nodes = graph.nodes
        self._position = {node: i for i, node in enumerate(self._nodes)}
        self._loaders = graph.all_child_positions
        self._parents = graph.all_parent_positions
        self._waiting: dict[int, set[int]] = {}  # producers not succeeded yet, once one has

    def _still_waiting(self, position: int) -> Collection[int]:
        """The producers of the node at ``position`` that have not succeeded yet."""
        waiting = self._waiting.get(position)
        return self._parents[position] if waiting is None else waiting

    def succeeded(self, node: Node) -> None:
        """``node`` succeeded: the nodes loading its outputs no longer wait for it."""
        position = self._position[node]
        for loader in self._loaders[position]:
            waiting = self._waiting.get(loader)
            if waiting is None:
                waiting = self._waiting[loader] = set(self._parents[loader])
            waiting.discard(position)

    def untold(
        self, handed: list[NodeOutcome], running: list[Node]
    ) -> tuple[set[Node], list[NodeOutcome]]:
        """What to tell observers when the loop stops early: the nodes to report started, the
        outcomes to report finished. ``handed``: outcomes of nodes the loop handed out;
        ``running``: the first node each worker holds. Of the nodes sent ahead, those that ran
        (started, and their outcome) or run now (started), not those kept from running by a
        failure before them."""
        position = self._position
        ran = [node for node in self.early if not self._still_waiting(position[node])]
        began = {*ran}
        began.update(n for n in running if n in self.sent and not self._still_waiting(position[n]))
        outcomes = [*handed, *(self.early[node] for node in ran)]
        self.early.clear()
        return began, outcomes

    def followers(self, node: Node, queued: Collection[Node]) -> Iterator[tuple[Node, list[Node]]]:
        """The nodes not started yet that load ``node``'s outputs and wait only for ``queued``
        nodes (those of the worker ``node`` is queued on), each with the nodes it waits for."""
        if not self.enabled:
            return
        nodes = self._nodes
        for position in self._loaders[self._position[node]]:
            loader = nodes[position]
            waiting = self._still_waiting(position)
            if (
                loader not in self.started
                and len(waiting) <= len(queued)
                and all(nodes[producer] in queued for producer in waiting)
            ):
                yield loader, sorted((nodes[p] for p in waiting), key=lambda n: n.name)

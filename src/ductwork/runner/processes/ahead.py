"""Sending a worker the next links of a chain before the run loop hands them out.

When the only unfinished producers of a node are queued on one worker, that worker can run the
node right after them, reading their in-memory outputs from its own memory, instead of
reporting to the parent and waiting for it to send the node: a chain on one worker then runs
without a round trip through the parent per link. The worker is told which nodes the sent one
follows; it runs it only if they all succeeded there, and otherwise answers without running it
(no hook fires). The parent keeps the outcome of a node that finished before the loop handed it
out until the loop does (a node downstream of a failure never is: the loop withdraws it). A node
sent ahead to a worker that dies is forgotten, and sent again when the loop hands it out.

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
from ductwork.pipeline.transcoding import strip_transcoding

__all__ = ["Ahead"]


class Ahead:
    """Which nodes of one run may be sent ahead, and which were."""

    def __init__(self, pipeline: Pipeline, enabled: bool) -> None:
        self.enabled = enabled
        self.started: set[Node] = set()  # sent to a worker (or the backlog), or finished
        self.sent: set[Node] = set()  # sent before the loop handed them out
        self.early: dict[Node, NodeOutcome] = {}  # finished before the loop handed them out
        # By base name: a node reading ``x@spark`` waits for the node writing ``x@pandas``.
        producers = {strip_transcoding(n): node for node in pipeline.nodes for n in node.outputs}
        self._loaders: dict[Node, list[Node]] = {node: [] for node in pipeline.nodes}
        self._waiting: dict[Node, set[Node]] = {}  # each node's producers not succeeded yet
        for node in pipeline.nodes:
            names = {strip_transcoding(n) for n in node.inputs}
            self._waiting[node] = {producers[n] for n in names if n in producers}
            for producer in self._waiting[node]:
                self._loaders[producer].append(node)

    def succeeded(self, node: Node) -> None:
        """``node`` succeeded: the nodes loading its outputs no longer wait for it."""
        for loader in self._loaders[node]:
            self._waiting[loader].discard(node)

    def untold(
        self, handed: list[NodeOutcome], running: list[Node]
    ) -> tuple[set[Node], list[NodeOutcome]]:
        """What to tell observers when the loop stops early: the nodes to report started, the
        outcomes to report finished. ``handed``: outcomes of nodes the loop handed out;
        ``running``: the first node each worker holds. Of the nodes sent ahead, those that ran
        (started, and their outcome) or run now (started), not those kept from running by a
        failure before them."""
        ran = [node for node in self.early if not self._waiting[node]]
        began = {*ran, *(n for n in running if n in self.sent and not self._waiting[n])}
        outcomes = [*handed, *(self.early[node] for node in ran)]
        self.early.clear()
        return began, outcomes

    def followers(self, node: Node, queued: Collection[Node]) -> Iterator[tuple[Node, list[Node]]]:
        """The nodes not started yet that load ``node``'s outputs and wait only for ``queued``
        nodes (those of the worker ``node`` is queued on), each with the nodes it waits for."""
        if not self.enabled:
            return
        for loader in self._loaders[node]:
            waiting = self._waiting[loader]
            if (
                loader not in self.started
                and len(waiting) <= len(queued)
                and all(producer in queued for producer in waiting)
            ):
                yield loader, sorted(waiting, key=lambda n: n.name)

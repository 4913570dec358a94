"""``PipelineGraph``: the dataset index and execution order of one pipeline, built once.

Every ``Pipeline`` builds its graph when it is created (that is when cycles are found) and keeps
it, since a pipeline never changes. The graph numbers the nodes by their topological position
and stores, as tuples of those positions:

* who produces each dataset and who consumes it (by base name: ``x@pandas`` and ``x@spark`` are
  one dataset ``x``),
* the parents and children of each node.

Building it costs O(nodes + edges) plus sorting each layer by name (the name and consumer
indexes are built on first use, also in linear time); every query afterwards is a dict lookup
or a breadth-first walk over the positions it reaches. Runners and the scheduler
should use ``Pipeline.graph`` rather than rebuilding an index: the positional API
(``parent_positions``, ``child_positions``, ``producer_position``, ``consumer_positions``,
``downstream``, ``upstream``) is stable and never hashes a ``Node``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from ductwork.exceptions import CircularDependencyError
from ductwork.pipeline._toposort import cycle_through, layered_toposort, strongly_connected
from ductwork.pipeline.transcoding import strip_transcoding

if TYPE_CHECKING:
    from ductwork.pipeline.node import Node

__all__ = ["PipelineGraph"]


class PipelineGraph:
    """Producers, consumers and topological order of a set of nodes.

    The nodes must have unique names and unique outputs (``Pipeline`` checks both first).

    Raises:
        CircularDependencyError: If the nodes depend on each other in a cycle; the message
            shows every cycle in order, e.g. ``a -> b -> c -> a``.
    """

    __slots__ = ("_children", "_consumers", "_layer_ends", "_nodes", "_parents", "_position",
                 "_producer", "_renumber")  # fmt: skip

    def __init__(self, nodes: Sequence[Node]) -> None:
        producer = {base: i for i, node in enumerate(nodes) for base in node._output_bases}
        parents = [_parents_of(node, producer) for node in nodes]
        children = _invert(parents)
        names = [node._name for node in nodes]
        layers, blocked = layered_toposort(parents, children, names.__getitem__)
        if blocked:
            raise CircularDependencyError(_describe_cycles(nodes, blocked, children))
        order = [i for layer in layers for i in layer]
        renumber = [0] * len(nodes)
        for new, old in enumerate(order):
            renumber[old] = new
        self._nodes = tuple(nodes[i] for i in order)
        self._layer_ends = _running_totals(len(layer) for layer in layers)
        self._parents = tuple(_ascending(renumber, parents[i]) for i in order)
        self._children = tuple(_ascending(renumber, children[i]) for i in order)
        # The producer index keeps the caller's numbering (renumbered on lookup) to save a
        # pass; the name and consumer indexes are built on first use: not every caller asks.
        self._producer = producer
        self._renumber = renumber
        self._position: dict[str, int] | None = None
        self._consumers: dict[str, list[int]] | None = None

    # --- nodes and order ---------------------------------------------------------------------

    @property
    def nodes(self) -> tuple[Node, ...]:
        """All nodes in topological order: layer after layer, each layer sorted by name."""
        return self._nodes

    @property
    def layers(self) -> tuple[tuple[Node, ...], ...]:
        """The nodes in layers; a node's parents all sit in earlier layers."""
        ends = self._layer_ends
        starts = (0, *ends[:-1]) if ends else ()
        return tuple(self._nodes[a:b] for a, b in zip(starts, ends, strict=True))

    def position(self, node: Node | str) -> int:
        """The index of a node (or node name) in :attr:`nodes`. Raises KeyError if absent."""
        return self._positions()[node if isinstance(node, str) else node.name]

    def __contains__(self, node: object) -> bool:
        name = getattr(node, "name", node)
        return isinstance(name, str) and name in self._positions()

    def _positions(self) -> dict[str, int]:
        if self._position is None:  # a race only builds the same dict twice
            self._position = {node._name: i for i, node in enumerate(self._nodes)}
        return self._position

    def __len__(self) -> int:
        return len(self._nodes)

    # --- neighbours by position --------------------------------------------------------------

    @property
    def all_parent_positions(self) -> tuple[tuple[int, ...], ...]:
        """:meth:`parent_positions` of every node, by position (for a whole-graph pass)."""
        return self._parents

    @property
    def all_child_positions(self) -> tuple[tuple[int, ...], ...]:
        """:meth:`child_positions` of every node, by position (for a whole-graph pass)."""
        return self._children

    def parent_positions(self, position: int) -> tuple[int, ...]:
        """Positions of the nodes whose outputs the node at ``position`` reads, ascending."""
        return self._parents[position]

    def child_positions(self, position: int) -> tuple[int, ...]:
        """Positions of the nodes that read an output of the node at ``position``, ascending."""
        return self._children[position]

    def producer_position(self, dataset: str) -> int | None:
        """Position of the node producing ``dataset`` (any transcoding), or None."""
        given = self._producer.get(strip_transcoding(dataset))
        return None if given is None else self._renumber[given]

    def consumer_positions(self, dataset: str) -> tuple[int, ...]:
        """Positions of the nodes reading ``dataset`` (any transcoding), ascending."""
        if self._consumers is None:
            self._consumers = _consumers(self._nodes)
        return tuple(self._consumers.get(strip_transcoding(dataset), ()))

    def downstream(self, positions: Iterable[int]) -> list[int]:
        """``positions`` and every position reachable through children, ascending."""
        return self._reach(positions, self._children)

    def upstream(self, positions: Iterable[int]) -> list[int]:
        """``positions`` and every position reachable through parents, ascending."""
        return self._reach(positions, self._parents)

    def _reach(self, start: Iterable[int], edges: tuple[tuple[int, ...], ...]) -> list[int]:
        seen = bytearray(len(self._nodes))
        frontier = []
        for position in start:
            if not seen[position]:
                seen[position] = 1
                frontier.append(position)
        for position in frontier:  # the list grows while it is walked: a breadth-first queue
            for nxt in edges[position]:
                if not seen[nxt]:
                    seen[nxt] = 1
                    frontier.append(nxt)
        return sorted(frontier)

    # --- neighbours by node ------------------------------------------------------------------

    def parents(self, node: Node | str) -> tuple[Node, ...]:
        """The nodes ``node`` depends on, in topological order."""
        return self._at(self._parents[self.position(node)])

    def children(self, node: Node | str) -> tuple[Node, ...]:
        """The nodes that depend on ``node``, in topological order."""
        return self._at(self._children[self.position(node)])

    def producer(self, dataset: str) -> Node | None:
        """The node producing ``dataset`` (any transcoding), or None for a free input."""
        position = self.producer_position(dataset)
        return None if position is None else self._nodes[position]

    def consumers(self, dataset: str) -> tuple[Node, ...]:
        """The nodes reading ``dataset`` (any transcoding), in topological order."""
        return self._at(self.consumer_positions(dataset))

    def _at(self, positions: Iterable[int]) -> tuple[Node, ...]:
        return tuple(self._nodes[p] for p in positions)


def _parents_of(node: Node, producer: dict[str, int]) -> list[int]:
    found = [p for base in node._input_bases if (p := producer.get(base)) is not None]
    # Two inputs may come from one parent; count it once (the common case needs no check).
    return found if len(found) < 2 else list(dict.fromkeys(found))


def _invert(parents: Sequence[Sequence[int]]) -> list[list[int]]:
    children: list[list[int]] = [[] for _ in parents]
    for child, its_parents in enumerate(parents):
        for parent in its_parents:
            children[parent].append(child)
    return children


def _ascending(renumber: list[int], vertices: list[int]) -> tuple[int, ...]:
    if len(vertices) < 2:  # most nodes have one parent or child: skip the sort
        return tuple(renumber[v] for v in vertices)
    return tuple(sorted(renumber[v] for v in vertices))


def _consumers(nodes: Sequence[Node]) -> dict[str, list[int]]:
    readers: dict[str, list[int]] = {}
    for position, node in enumerate(nodes):
        for base in node._input_bases:
            found = readers.get(base)
            if found is None:
                readers[base] = [position]
            else:
                found.append(position)
    return readers


def _running_totals(sizes: Iterable[int]) -> tuple[int, ...]:
    totals: list[int] = []
    for size in sizes:
        totals.append(size + (totals[-1] if totals else 0))
    return tuple(totals)


def _describe_cycles(
    nodes: Sequence[Node], blocked: list[int], children: Sequence[Sequence[int]]
) -> str:
    blocked_set = set(blocked)

    def successors(vertex: int) -> list[int]:
        return [c for c in children[vertex] if c in blocked_set]

    def name(vertex: int) -> str:
        return nodes[vertex].name

    loops = [c for c in strongly_connected(blocked, successors) if len(c) > 1]
    lines = []
    for component in sorted(loops, key=lambda c: min(map(name, c))):
        cycle = cycle_through(component, successors, name)
        line = " -> ".join(map(name, cycle))
        if len(component) > len(cycle) - 1:
            others = sorted(set(map(name, component)) - set(map(name, cycle)))
            line += f" (in one loop with {others})"
        lines.append(line)
    count = sum(len(c) for c in loops)
    return f"Circular dependencies exist among the following {count} item(s): " + "; ".join(lines)

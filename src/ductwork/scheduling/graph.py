"""An integer-indexed view of a pipeline's dependency graph, shared by the scheduling algorithms.

Nodes are numbered by their position in a topological order, so "lower index" always means
"may run earlier", and every algorithm here works on small integers and tuples instead of hashing
node objects in its inner loops.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

__all__ = ["NodeGraph", "NodeLike", "base_name"]

TRANSCODING_SEPARATOR = "@"


class NodeLike(Protocol, Hashable):
    """What scheduling needs of a node: a name and the datasets it reads and writes."""

    @property
    def name(self) -> str:
        """The node's unique name."""
        ...

    @property
    def inputs(self) -> list[str]:
        """The dataset names the node loads."""
        ...

    @property
    def outputs(self) -> list[str]:
        """The dataset names the node saves."""
        ...


N = TypeVar("N", bound=NodeLike)


def base_name(dataset_name: str) -> str:
    """Strip the transcoding suffix: ``"x@pandas"`` and ``"x@spark"`` are both dataset ``"x"``."""
    return dataset_name.split(TRANSCODING_SEPARATOR, 1)[0]


@dataclass(frozen=True)
class NodeGraph(Generic[N]):
    """Nodes in topological order with their parents and children as index tuples."""

    nodes: tuple[N, ...]
    index: Mapping[N, int]
    parents: tuple[tuple[int, ...], ...]
    children: tuple[tuple[int, ...], ...]

    @classmethod
    def build(cls, nodes: Sequence[N], dependencies: Mapping[N, Collection[N]]) -> NodeGraph[N]:
        """Index ``nodes`` (a topological order) and their ``dependencies`` (node -> parents).

        Runs in time linear in the number of nodes and edges.
        """
        index = {node: i for i, node in enumerate(nodes)}
        parents = tuple(
            tuple(sorted(index[parent] for parent in dependencies.get(node, ()))) for node in nodes
        )
        children: list[list[int]] = [[] for _ in nodes]
        for child, node_parents in enumerate(parents):
            for parent in node_parents:
                children[parent].append(child)
        return cls(tuple(nodes), index, parents, tuple(tuple(c) for c in children))

    def __len__(self) -> int:
        return len(self.nodes)

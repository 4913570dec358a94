"""The interrupted-namespace warning.

A namespace is interrupted when a path leaves it and later comes back into it: its nodes can
then not run (or be deployed) as one unit, because the nodes outside must run in between.
Nesting is checked depth by depth. At one depth every namespace is collapsed into a single
vertex and the strongly connected components of that smaller graph are found: a namespace on
no loop there is not interrupted. Collapsing several namespaces at once can close loops no
real path makes, so each namespace on a loop is confirmed on the real nodes, walking only the
nodes of its component. Cost: O(depth * (nodes + edges)) when nothing is interrupted.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from ductwork.pipeline._toposort import strongly_connected

if TYPE_CHECKING:
    from ductwork.pipeline.graph import PipelineGraph
    from ductwork.pipeline.node import Node

_NAMESPACE = "namespace "
_NODE = "node "


def warn_interrupted_namespaces(graph: PipelineGraph) -> None:
    """Warn (``UserWarning``) once for each interrupted namespace, naming the nodes outside it
    that a path through it passes."""
    depth = max((len(node.namespace_prefixes) for node in graph.nodes), default=0)
    for level in range(1, depth + 1):
        for namespace, others in sorted(_interrupted_at(graph, level).items()):
            # Kedro's wording, which tools match: a path leaves the namespace and comes back
            # through these nodes, so the namespace cannot run as one unit.
            warnings.warn(
                f"Namespace '{namespace}' is interrupted by nodes {others} and thus invalid.",
                UserWarning,
                stacklevel=4,
            )


def _interrupted_at(graph: PipelineGraph, depth: int) -> dict[str, list[str]]:
    vertices = [_vertex_at(node, depth) for node in graph.nodes]
    successors: dict[str, set[str]] = {v: set() for v in vertices}
    members: dict[str, list[int]] = {}
    for position, vertex in enumerate(vertices):
        members.setdefault(vertex, []).append(position)
        for child in graph.child_positions(position):
            if vertices[child] != vertex:
                successors[vertex].add(vertices[child])
    found: dict[str, list[str]] = {}
    for component in strongly_connected(successors, lambda v: sorted(successors[v])):
        allowed = set(component)
        for vertex in component:
            if len(component) < 2 or not vertex.startswith(_NAMESPACE):
                continue
            detour = _detour(graph, vertices, members[vertex], allowed - {vertex})
            if detour:
                found[_label(vertex)] = sorted(graph.nodes[p].name for p in detour)
    return found


def _detour(
    graph: PipelineGraph, vertices: list[str], inside: list[int], allowed: set[str]
) -> set[int]:
    """Positions outside the namespace that are both reachable from it and lead back to it."""

    def reach(edges: Callable[[int], Iterable[int]]) -> set[int]:
        seen: set[int] = set()
        frontier = list(inside)
        while frontier:
            position = frontier.pop()
            for nxt in edges(position):
                if nxt not in seen and vertices[nxt] in allowed:
                    seen.add(nxt)
                    frontier.append(nxt)
        return seen

    return reach(graph.child_positions) & reach(graph.parent_positions)


def _vertex_at(node: Node, depth: int) -> str:
    prefixes = node.namespace_prefixes
    # The two kinds of vertex get distinct prefixes so a node name never meets a namespace.
    return f"{_NAMESPACE}{prefixes[depth - 1]}" if len(prefixes) >= depth else f"{_NODE}{node.name}"


def _label(vertex: str) -> str:
    return vertex.split(" ", 1)[1]

"""Graph algorithms on plain vertices: layered topological sort, strong components, cycles.

The pipeline numbers its nodes and runs these on integers, so that no step hashes a ``Node``
and every step costs O(vertices + edges) (plus sorting each layer).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

V = TypeVar("V", bound=Hashable)


def layered_toposort(
    parents: Sequence[Sequence[int]],
    children: Sequence[Sequence[int]],
    sort_key: Callable[[int], Any],
) -> tuple[list[list[int]], list[int]]:
    """Kahn's algorithm, one layer at a time, with a counter of unfinished parents per vertex.

    Layer ``k`` holds the vertices whose longest chain of ancestors has ``k`` edges; each layer
    is sorted by ``sort_key``, so the order never depends on set or dict iteration.

    Args:
        parents: ``parents[v]``: the distinct vertices ``v`` depends on.
        children: ``children[v]``: the distinct vertices that depend on ``v``.
        sort_key: Orders the vertices of one layer.

    Returns:
        ``(layers, blocked)``: ``blocked`` lists the vertices that never became ready, which
        happens only when they sit on, or downstream of, a cycle.
    """
    waiting = [len(p) for p in parents]
    layer = sorted((v for v, count in enumerate(waiting) if count == 0), key=sort_key)
    layers: list[list[int]] = []
    while layer:
        layers.append(layer)
        ready: list[int] = []
        for vertex in layer:
            for child in children[vertex]:
                waiting[child] -= 1
                if waiting[child] == 0:
                    ready.append(child)
        layer = sorted(ready, key=sort_key) if len(ready) > 1 else ready
    return layers, [v for v, count in enumerate(waiting) if count > 0]


def strongly_connected(
    vertices: Iterable[V], successors: Callable[[V], Iterable[V]]
) -> list[list[V]]:
    """Tarjan's strongly connected components, iterative so that deep graphs cannot overflow.

    Args:
        vertices: The vertices to explore, in the order to start from.
        successors: The out-neighbours of a vertex (only vertices to be explored).

    Returns:
        The components; a vertex on no cycle forms a component on its own.
    """
    index: dict[V, int] = {}
    low: dict[V, int] = {}
    stack: list[V] = []
    on_stack: set[V] = set()
    components: list[list[V]] = []

    def visit(vertex: V) -> Iterator[V]:
        index[vertex] = low[vertex] = len(index)
        stack.append(vertex)
        on_stack.add(vertex)
        return iter(successors(vertex))

    for root in vertices:
        if root in index:
            continue
        work = [(root, visit(root))]
        while work:
            vertex, pending = work[-1]
            for successor in pending:
                if successor not in index:
                    work.append((successor, visit(successor)))
                    break
                if successor in on_stack:
                    low[vertex] = min(low[vertex], index[successor])
            else:
                work.pop()
                if work:
                    caller = work[-1][0]
                    low[caller] = min(low[caller], low[vertex])
                if low[vertex] == index[vertex]:
                    components.append(_pop_component(stack, on_stack, vertex))
    return components


def _pop_component(stack: list[V], on_stack: set[V], root: V) -> list[V]:
    component: list[V] = []
    while True:
        member = stack.pop()
        on_stack.discard(member)
        component.append(member)
        if member == root:
            return component


def cycle_through(
    component: Sequence[V], successors: Callable[[V], Iterable[V]], sort_key: Callable[[V], Any]
) -> list[V]:
    """One cycle inside a strongly connected component of two or more vertices, in order.

    The walk follows, from the smallest vertex by ``sort_key``, the first successor that stays
    in the component until a vertex repeats. Every vertex of such a component has one, so the
    walk is O(size of the component). The result starts and ends with the same vertex.
    """
    members = set(component)
    vertex = min(component, key=sort_key)
    seen_at: dict[V, int] = {}
    path: list[V] = []
    while vertex not in seen_at:
        seen_at[vertex] = len(path)
        path.append(vertex)
        vertex = next(s for s in successors(vertex) if s in members)
    cycle = path[seen_at[vertex] :]
    # Start the loop at its smallest vertex so the message is the same whatever the walk.
    start = cycle.index(min(cycle, key=sort_key))
    cycle = cycle[start:] + cycle[:start]
    return [*cycle, cycle[0]]

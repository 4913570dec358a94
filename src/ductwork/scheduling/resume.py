"""Where to resume a failed run: the nearest nodes whose inputs are all persisted.

When a run fails, the nodes that did not finish must run again, and so must every node that
produced an in-memory input of theirs (that data died with the run), transitively, and everything
downstream of all of those. The suggestion names the first layer of that set: running the
pipeline "from" those nodes re-runs exactly the set.

Pure: the caller says which dataset names are persisted.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Collection

from ductwork.scheduling.graph import N, NodeGraph, base_name

__all__ = ["nodes_to_rerun", "resume_from_nodes"]

PARAMETER_PREFIX = "params:"


def nodes_to_rerun(
    graph: NodeGraph[N], unfinished: Collection[N], is_persisted: Callable[[str], bool]
) -> list[N]:
    """Every node a resumed run must run, in topological order.

    Args:
        graph: The whole pipeline that failed.
        unfinished: Its nodes that did not finish (the failed one included).
        is_persisted: Tells whether a dataset name survives the end of a run.
    """
    chosen = _with_lost_producers(graph, {graph.index[node] for node in unfinished}, is_persisted)
    return [graph.nodes[i] for i in sorted(_downstream_closure(graph, chosen))]


def resume_from_nodes(
    graph: NodeGraph[N], unfinished: Collection[N], is_persisted: Callable[[str], bool]
) -> list[str]:
    """The sorted names of the nodes to pass as ``--from-nodes`` to resume the run.

    ``from_nodes(*answer)`` on the pipeline selects exactly :func:`nodes_to_rerun`.
    """
    rerun = {graph.index[node] for node in nodes_to_rerun(graph, unfinished, is_persisted)}
    first_layer = [i for i in rerun if not any(p in rerun for p in graph.parents[i])]
    return sorted(graph.nodes[i].name for i in first_layer)


def _producers(graph: NodeGraph[N]) -> dict[str, int]:
    return {base_name(name): i for i, node in enumerate(graph.nodes) for name in node.outputs}


def _with_lost_producers(
    graph: NodeGraph[N], unfinished: set[int], is_persisted: Callable[[str], bool]
) -> set[int]:
    producers = _producers(graph)
    produced_here = {base_name(name) for i in unfinished for name in graph.nodes[i].outputs}
    # Start from the unfinished nodes that read something from outside the unfinished set:
    # those are the ones whose inputs may have been lost.
    queue = deque(
        i
        for i in sorted(unfinished)
        if any(base_name(name) not in produced_here for name in graph.nodes[i].inputs)
    )
    chosen = set(unfinished)
    seen = set(queue)
    while queue:
        index = queue.popleft()
        chosen.add(index)
        for name in graph.nodes[index].inputs:
            if name.startswith(PARAMETER_PREFIX) or is_persisted(name):
                continue
            producer = producers.get(base_name(name))
            if producer is not None and producer not in seen:
                seen.add(producer)
                queue.append(producer)
    return chosen


def _downstream_closure(graph: NodeGraph[N], start: set[int]) -> set[int]:
    closure = set(start)
    stack = list(start)
    while stack:
        for child in graph.children[stack.pop()]:
            if child not in closure:
                closure.add(child)
                stack.append(child)
    return closure

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

from ductwork.pipeline import Node
from ductwork.pipeline.graph import PipelineGraph
from ductwork.pipeline.transcoding import strip_transcoding as base_name

__all__ = ["nodes_to_rerun", "resume_from_nodes"]

PARAMETER_PREFIX = "params:"


def nodes_to_rerun(
    graph: PipelineGraph, unfinished: Collection[Node], is_persisted: Callable[[str], bool]
) -> list[Node]:
    """Every node a resumed run must run, in topological order.

    Args:
        graph: The whole pipeline that failed.
        unfinished: Its nodes that did not finish (the failed one included).
        is_persisted: Tells whether a dataset name survives the end of a run.
    """
    chosen = _with_lost_producers(
        graph, {graph.position(node) for node in unfinished}, is_persisted
    )
    return [graph.nodes[i] for i in graph.downstream(chosen)]


def resume_from_nodes(
    graph: PipelineGraph, unfinished: Collection[Node], is_persisted: Callable[[str], bool]
) -> list[str]:
    """The sorted names of the nodes to pass as ``--from-nodes`` to resume the run.

    ``from_nodes(*answer)`` on the pipeline selects exactly :func:`nodes_to_rerun`.
    """
    rerun = {graph.position(node) for node in nodes_to_rerun(graph, unfinished, is_persisted)}
    first_layer = [i for i in rerun if not any(p in rerun for p in graph.parent_positions(i))]
    return sorted(graph.nodes[i].name for i in first_layer)


def _with_lost_producers(
    graph: PipelineGraph, unfinished: set[int], is_persisted: Callable[[str], bool]
) -> set[int]:
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
            producer = graph.producer_position(name)
            if producer is not None and producer not in seen:
                seen.add(producer)
                queue.append(producer)
    return chosen

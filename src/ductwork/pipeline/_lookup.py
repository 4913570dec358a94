"""Resolving the names a query is given into positions of a pipeline's graph.

Each function checks every name first and raises one error listing all the unknown ones,
with close names suggested; then it answers from the graph's indexes.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import TYPE_CHECKING

from ductwork.exceptions import UnknownDatasetError, UnknownNamespaceError, UnknownNodeError
from ductwork.pipeline._suggest import did_you_mean
from ductwork.pipeline.transcoding import strip_transcoding

if TYPE_CHECKING:
    from ductwork.pipeline.graph import PipelineGraph
    from ductwork.pipeline.node import Node

# Suggesting namespaced names compares every unknown name with every node name: cap the first.
_MAX_UNKNOWN_TO_MATCH = 10


def node_positions(graph: PipelineGraph, node_names: Iterable[str]) -> list[int]:
    """Positions of the named nodes.

    Raises:
        UnknownNodeError: Naming every unknown node, suggesting ``ns.<name>`` or close names.
    """
    names = list(node_names)
    missing = [name for name in dict.fromkeys(names) if name not in graph]
    if missing:
        raise UnknownNodeError(_unknown_nodes_message(missing, graph.nodes))
    return [graph.position(name) for name in names]


def _unknown_nodes_message(missing: list[str], nodes: Sequence[Node]) -> str:
    names = [node.name for node in nodes]
    tails = {f".{m}" for m in missing[:_MAX_UNKNOWN_TO_MATCH]}
    namespaced = [n for n in names if any(n.endswith(tail) for tail in tails)]
    hint = f" Did you mean: {namespaced}?" if namespaced else did_you_mean(missing, names)
    return f"Pipeline does not contain nodes named {missing}.{hint}"


def namespace_positions(graph: PipelineGraph, namespaces: set[str]) -> list[int]:
    """Positions of the nodes inside any of ``namespaces`` (nested ones included).

    Raises:
        UnknownNamespaceError: If a namespace holds no node, suggesting close namespaces.
    """
    matched: set[str] = set()
    positions = []
    for position, node in enumerate(graph.nodes):
        hits = namespaces.intersection(node.namespace_prefixes)
        if hits:
            positions.append(position)
            matched |= hits
    missing = sorted(namespaces - matched)
    if missing:
        known = {prefix for node in graph.nodes for prefix in node.namespace_prefixes}
        raise UnknownNamespaceError(
            f"Pipeline does not contain nodes with the following namespaces: {missing}."
            + did_you_mean(missing, known)
        )
    return positions


def check_datasets(
    names: Iterable[str], datasets: Collection[str], bases: Collection[str]
) -> list[str]:
    """The names, once each is known as a full dataset name or as a base name.

    Raises:
        UnknownDatasetError: Naming every unknown dataset, suggesting close names.
    """
    wanted = list(names)
    missing = sorted(n for n in set(wanted) if n not in datasets and n not in bases)
    if missing:
        raise UnknownDatasetError(
            f"Pipeline does not contain datasets named {missing}." + did_you_mean(missing, datasets)
        )
    return wanted


def reader_positions(graph: PipelineGraph, datasets: Iterable[str]) -> list[int]:
    """Nodes reading the datasets: every format for a base name, one format for ``x@fmt``."""
    nodes = graph.nodes
    found = []
    for name in datasets:
        exact = strip_transcoding(name) != name
        found += [
            p for p in graph.consumer_positions(name) if not exact or name in nodes[p]._input_names
        ]
    return found


def writer_positions(graph: PipelineGraph, datasets: Iterable[str]) -> list[int]:
    """Nodes writing the datasets, matched as in :func:`reader_positions`."""
    nodes = graph.nodes
    found = []
    for name in datasets:
        position = graph.producer_position(name)
        exact = strip_transcoding(name) != name
        if position is not None and (not exact or name in nodes[position]._output_names):
            found.append(position)
    return found

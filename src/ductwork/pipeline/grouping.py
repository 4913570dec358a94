"""Views of a pipeline for people and deployment tools: groups, a description, JSON.

``group_nodes_by("namespace")`` is what deployment plugins use to turn each top-level namespace
into one task of an orchestrator; ``group_nodes_by(None)`` makes one task per node.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from ductwork.exceptions import PipelineQueryError

if TYPE_CHECKING:
    from ductwork.pipeline.graph import PipelineGraph
    from ductwork.pipeline.node import Node

__all__ = ["GroupedNodes", "describe", "group_nodes_by", "to_json"]

#: A group's kind and name; a lone node may share its name with a namespace.
_GroupKey = tuple[Literal["namespace", "nodes"], str]


@dataclass
class GroupedNodes:
    """A group of nodes that runs as one unit, and the groups it depends on.

    Attributes:
        name: The top-level namespace, or the node's name for a lone node.
        type: ``"namespace"`` for a namespace group, ``"nodes"`` for a lone node.
        nodes: Names of the nodes in the group, in topological order.
        dependencies: Names of the groups this group depends on, sorted.
    """

    name: str
    type: Literal["namespace", "nodes"]
    nodes: list[str] = field(default_factory=list)
    dependencies: list[str] = field(default_factory=list)


def group_nodes_by(graph: PipelineGraph, group_by: str | None = "namespace") -> list[GroupedNodes]:
    """Group the nodes of a pipeline, in the order their first node runs.

    Args:
        graph: The pipeline's graph.
        group_by: ``"namespace"`` (one group per top-level namespace, lone nodes alone) or
            ``None`` (one group per node).

    Raises:
        PipelineQueryError: For any other ``group_by``.
    """
    if group_by not in ("namespace", None):
        raise PipelineQueryError(
            f"Unsupported group_by strategy: {group_by}. Use 'namespace' or None."
        )
    keys = [_group_key(node, group_by) for node in graph.nodes]
    groups: dict[_GroupKey, GroupedNodes] = {}
    depends: dict[_GroupKey, set[str]] = {}
    for position, node in enumerate(graph.nodes):
        key = keys[position]
        group = groups.setdefault(key, GroupedNodes(name=key[1], type=key[0]))
        group.nodes.append(node.name)
        parents = {keys[p] for p in graph.parent_positions(position)} - {key}
        depends.setdefault(key, set()).update(name for _, name in parents)
    for group_key, group in groups.items():
        group.dependencies = sorted(depends[group_key])
    return list(groups.values())


def _group_key(node: Node, group_by: str | None) -> _GroupKey:
    if group_by == "namespace" and node.namespace:
        return "namespace", node.namespace.split(".", 1)[0]
    return "nodes", node.name


def describe(nodes: list[Node], inputs: set[str], outputs: set[str], names_only: bool) -> str:
    """The execution order with the free inputs and outputs, ready to log."""

    def listing(names: set[str]) -> str:
        return ", ".join(sorted(names)) if names else "None"

    steps = "\n".join(node.name if names_only else str(node) for node in nodes)
    return (
        "#### Pipeline execution order ####\n"
        f"Inputs: {listing(inputs)}\n\n"
        f"{steps}\n\n"
        f"Outputs: {listing(outputs)}\n"
        "##################################"
    )


def to_json(nodes: list[Node]) -> str:
    """The pipeline as a JSON document: ``{"ductwork_version": ..., "pipeline": [...]}``.

    ``pipeline`` lists the nodes in execution order, each with its name, inputs, outputs and
    (sorted) tags: the shape of Kedro's document, whose version key is ``kedro_version``.
    """
    import ductwork  # noqa: PLC0415  # the root package: loaded by now, and only read here

    described = [
        {
            "name": node.name,
            "inputs": node.inputs,
            "outputs": node.outputs,
            "tags": sorted(node.tags),
        }
        for node in nodes
    ]
    return json.dumps({"ductwork_version": ductwork.__version__, "pipeline": described})

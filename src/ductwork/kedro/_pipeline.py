"""Kedro's pipeline and nodes, as the ductwork pipeline that ductwork's run loop runs.

Each Kedro node becomes a ductwork node with the same function, the same input and output
specification (a string, a list or a dict, so the function is called the same way), the same
name (Kedro's generated names included, so that ``--from-nodes`` works with the names the run
prints), namespace, tags and confirms. Transcoded names (``ds@pandas``) keep their suffix: the
ductwork graph treats ``ds@a`` and ``ds@b`` as one dataset, as Kedro's does. A generator function
stays a generator function, so its chunks are saved one by one.

The conversion keeps, by name, the Kedro node each ductwork node came from: hooks receive
Kedro's own node objects.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ductwork.pipeline import Node, Pipeline

__all__ = ["ConvertedPipeline", "convert_pipeline"]


@dataclass(frozen=True)
class ConvertedPipeline:
    """A Kedro pipeline as ductwork's, with the Kedro node of each ductwork node's name."""

    pipeline: Pipeline
    kedro_nodes: Mapping[str, Any]


def convert_pipeline(kedro_pipeline: Any) -> ConvertedPipeline:
    """Convert a ``kedro.pipeline.Pipeline`` (or anything with its ``nodes``)."""
    nodes: list[Node] = []
    originals: dict[str, Any] = {}
    # Kedro has already warned about its nodes (dotted dataset names and the like); the copies
    # must not warn a second time.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for kedro_node in kedro_pipeline.nodes:
            converted = convert_node(kedro_node)
            nodes.append(converted)
            originals[converted.name] = kedro_node
    return ConvertedPipeline(Pipeline(nodes), originals)


def convert_node(kedro_node: Any) -> Node:
    """The ductwork node that runs ``kedro_node``'s function as Kedro would."""
    namespace: str | None = kedro_node.namespace
    full_name: str = kedro_node.name
    # An explicit name is kept; otherwise ductwork generates the same name as Kedro (the
    # function's name and a hash of its inputs and outputs).
    explicit = getattr(kedro_node, "_name", None)
    converted = Node(
        kedro_node.func,
        _spec(kedro_node, "_inputs", kedro_node.inputs),
        _spec(kedro_node, "_outputs", kedro_node.outputs),
        name=explicit,
        tags=sorted(kedro_node.tags),
        confirms=list(kedro_node.confirms) or None,
        namespace=namespace,
    )
    if converted.name != full_name:  # every name-based lookup (hooks, --from-nodes) would miss
        raise ValueError(
            f"Kedro's node {full_name!r} got the name {converted.name!r} in ductwork; name the "
            "node explicitly (node(..., name=...)) to run it with ductwork.kedro."
        )
    return converted


def _spec(kedro_node: Any, attribute: str, names: list[str]) -> Any:
    # How the node was declared (a string, a list or a dict) decides how its function is called
    # and how its result is split; Kedro keeps the declaration as given.
    declared = getattr(kedro_node, attribute, names)
    if declared is None or isinstance(declared, (str, list, dict)):
        return declared
    return list(names)

"""Pipelines written as short text, for testing the scheduling algorithms on their own."""

from __future__ import annotations

from typing import Any

from ductwork.pipeline import Node, Pipeline, node
from ductwork.pipeline.graph import PipelineGraph


def anything(*args: Any) -> Any:
    """A node function that binds to any inputs (scheduling never calls it)."""
    return args


def parse(spec: str) -> list[Node]:
    """Build nodes from lines like ``"n1: a, b -> c"`` (inputs and outputs may be empty)."""
    nodes = []
    for line in spec.strip().splitlines():
        name, rest = (part.strip() for part in line.split(":", 1))
        ins, outs = (_names(part) for part in rest.split("->"))
        nodes.append(node(anything, ins or None, outs or None, name=name))
    return nodes


def _names(text: str) -> list[str]:
    return [n.strip() for n in text.split(",") if n.strip()]


def pipeline(spec: str) -> Pipeline:
    """Parse ``spec`` into a pipeline."""
    return Pipeline(parse(spec))


def graph(spec: str) -> PipelineGraph:
    """Parse ``spec`` and return its graph."""
    return pipeline(spec).graph

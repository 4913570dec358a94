"""A minimal node and pipeline for testing the scheduling algorithms on their own."""

from __future__ import annotations

from collections.abc import Sequence

from ductwork.scheduling import NodeGraph, base_name


class FakeNode:
    """A node reduced to what scheduling reads: a name, inputs and outputs."""

    def __init__(self, name: str, inputs: Sequence[str] = (), outputs: Sequence[str] = ()):
        self.name = name
        self.inputs = list(inputs)
        self.outputs = list(outputs)

    def __hash__(self) -> int:
        return hash(self.name)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FakeNode) and other.name == self.name

    def __repr__(self) -> str:
        return f"FakeNode({self.name!r})"


def parse(spec: str) -> list[FakeNode]:
    """Build nodes from lines like ``"n1: a, b -> c"`` (inputs and outputs may be empty)."""
    nodes = []
    for line in spec.strip().splitlines():
        name, rest = (part.strip() for part in line.split(":", 1))
        ins, outs = (part.strip() for part in rest.split("->"))
        nodes.append(FakeNode(name, [i.strip() for i in ins.split(",") if i.strip()], _names(outs)))
    return nodes


def _names(text: str) -> list[str]:
    return [n.strip() for n in text.split(",") if n.strip()]


def dependencies(nodes: Sequence[FakeNode]) -> dict[FakeNode, set[FakeNode]]:
    """Each node's producers, by base dataset name."""
    producer = {base_name(o): n for n in nodes for o in n.outputs}
    return {
        n: {producer[base_name(i)] for i in n.inputs if base_name(i) in producer} for n in nodes
    }


def topological(nodes: Sequence[FakeNode]) -> list[FakeNode]:
    """The nodes in a topological order (the given order when it already is one)."""
    deps = dependencies(nodes)
    done: list[FakeNode] = []
    placed: set[FakeNode] = set()
    remaining = list(nodes)
    while remaining:
        layer = [n for n in remaining if deps[n] <= placed]
        assert layer, "cycle in test pipeline"
        done.extend(layer)
        placed.update(layer)
        remaining = [n for n in remaining if n not in placed]
    return done


def graph(spec: str) -> NodeGraph[FakeNode]:
    """Parse ``spec`` and index it."""
    nodes = topological(parse(spec))
    return NodeGraph.build(nodes, dependencies(nodes))


def free_names(nodes: Sequence[FakeNode]) -> set[str]:
    """Free inputs and free outputs: the names a run must never release."""
    ins = {i for n in nodes for i in n.inputs}
    outs = {o for n in nodes for o in n.outputs}
    in_bases = {base_name(i) for i in ins}
    out_bases = {base_name(o) for o in outs}
    return {i for i in ins if base_name(i) not in out_bases} | {
        o for o in outs if base_name(o) not in in_bases
    }

"""``PipelineGraph``: the index runners and schedulers reuse, and its behaviour at depth."""

from __future__ import annotations

import pytest

from ductwork.exceptions import CircularDependencyError
from ductwork.pipeline import Pipeline, node
from ductwork.pipeline.graph import PipelineGraph
from tests.pipeline.funcs import biconcat, identity


@pytest.fixture
def graph() -> PipelineGraph:
    return Pipeline(
        [
            node(identity, "raw", "cars@pandas", name="load"),
            node(identity, "cars@spark", "model", name="fit"),
            node(biconcat, ["cars@pandas", "model"], "report", name="report"),
            node(identity, "other", "side", name="aside"),
        ]
    ).graph


def test_positions_follow_the_topological_order(graph: PipelineGraph) -> None:
    assert [n.name for n in graph.nodes] == ["aside", "load", "fit", "report"]
    assert [[n.name for n in layer] for layer in graph.layers] == [
        ["aside", "load"],
        ["fit"],
        ["report"],
    ]
    assert [graph.position(n) for n in graph.nodes] == [0, 1, 2, 3]
    assert graph.position("fit") == 2
    assert len(graph) == 4
    assert "fit" in graph
    assert graph.nodes[0] in graph
    assert "nope" not in graph
    assert 3 not in graph


def test_neighbours_by_position(graph: PipelineGraph) -> None:
    assert graph.parent_positions(3) == (1, 2)
    assert graph.child_positions(1) == (2, 3)
    assert graph.parent_positions(0) == ()
    assert graph.downstream([1]) == [1, 2, 3]
    assert graph.upstream([3]) == [1, 2, 3]
    assert graph.upstream([]) == []
    assert graph.all_parent_positions == tuple(map(graph.parent_positions, range(len(graph))))
    assert graph.all_child_positions == tuple(map(graph.child_positions, range(len(graph))))


def test_producers_and_consumers_are_transcoding_aware(graph: PipelineGraph) -> None:
    assert graph.producer_position("cars") == 1
    assert graph.producer_position("cars@spark") == 1
    assert graph.producer_position("raw") is None
    assert graph.consumer_positions("cars@csv") == (2, 3)
    assert graph.consumer_positions("report") == ()
    load = graph.nodes[1]
    assert graph.producer("cars") is load
    assert graph.producer("other") is None
    assert [n.name for n in graph.consumers("cars")] == ["fit", "report"]


def test_neighbours_by_node(graph: PipelineGraph) -> None:
    report = graph.nodes[3]
    assert [n.name for n in graph.parents(report)] == ["load", "fit"]
    assert [n.name for n in graph.children("load")] == ["fit", "report"]
    with pytest.raises(KeyError):
        graph.parents("nope")


def test_the_pipeline_keeps_one_graph(graph: PipelineGraph) -> None:
    made = Pipeline([node(identity, "a", "b", name="n")])
    assert made.graph is made.graph


def test_a_node_reading_two_outputs_of_one_parent_has_it_once() -> None:
    graph = Pipeline(
        [
            node(identity, "a", "b", name="p1"),
            node(biconcat, ["b", "b"], "d", name="p2"),
        ]
    ).graph
    assert graph.parent_positions(1) == (0,)
    assert graph.child_positions(0) == (1,)


def test_a_deep_chain_needs_no_recursion() -> None:
    depth = 20_000
    made = Pipeline([node(identity, f"d{i}", f"d{i + 1}", name=f"n{i}") for i in range(depth)])
    assert made.nodes[-1].name == f"n{depth - 1}"
    assert len(made.grouped_nodes) == depth
    assert len(made.from_nodes("n1").nodes) == depth - 1
    assert len(made.to_outputs(f"d{depth // 2}").nodes) == depth // 2
    assert made.inputs() == {"d0"}


def test_a_long_cycle_is_reported_without_recursion() -> None:
    size = 5_000
    ring = [node(identity, f"d{i}", f"d{(i + 1) % size}", name=f"n{i:05}") for i in range(size)]
    with pytest.raises(CircularDependencyError) as info:
        Pipeline(ring)
    message = str(info.value)
    assert message.startswith(
        f"Circular dependencies exist among the following {size} item(s): n00000 -> n00001 ->"
    )
    assert message.endswith("n04999 -> n00000")

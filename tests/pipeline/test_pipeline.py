"""Building pipelines: checks, order, datasets, operators and views."""

from __future__ import annotations

import json
import pickle
from typing import Any

import pytest

import ductwork
from ductwork.exceptions import (
    CircularDependencyError,
    ConfirmNotUniqueError,
    InvalidNodeError,
    InvalidPipelineError,
    OutputNotUniqueError,
    PipelineError,
    PipelineQueryError,
)
from ductwork.pipeline import GroupedNodes, Node, Pipeline, node, pipeline
from tests.pipeline.funcs import biconcat, constant, identity, split_pair


def names(p: Pipeline) -> list[str]:
    return [n.name for n in p.nodes]


# --- construction --------------------------------------------------------------------------------


def test_empty_pipeline_is_valid() -> None:
    empty = Pipeline([])
    assert empty.nodes == []
    assert empty.grouped_nodes == []
    assert empty.inputs() == set()
    assert empty.node_dependencies == {}


def test_none_is_rejected() -> None:
    with pytest.raises(InvalidPipelineError, match="'nodes' argument of 'Pipeline' is None"):
        Pipeline(None)  # type: ignore[arg-type]


def test_something_else_than_nodes_is_rejected() -> None:
    with pytest.raises(InvalidPipelineError, match="not 'str': 'oops'"):
        Pipeline([node(identity, "a", "b"), "oops"])  # type: ignore[list-item]


def test_nested_pipelines_are_flattened(chain: Pipeline) -> None:
    extra = node(identity, "d", "e", name="n4")
    for combined in (Pipeline([chain, extra]), pipeline([Pipeline([chain]), [extra][0]])):
        assert names(combined) == ["n1", "n2", "n3", "n4"]
    assert names(Pipeline(chain)) == ["n1", "n2", "n3"]
    assert names(Pipeline(iter(chain.nodes))) == ["n1", "n2", "n3"]


def test_duplicate_free_node_names_are_listed() -> None:
    with pytest.raises(InvalidPipelineError) as info:
        Pipeline([node(identity, "a", "b", name="x"), node(identity, "b", "c", name="x")])
    message = str(info.value)
    assert message.startswith("Pipeline nodes must have unique names.")
    assert "Free nodes:\n  - x\n" in message


def test_duplicate_names_are_listed_under_their_pipeline() -> None:
    inner = Pipeline([node(identity, "a", "b", name="x")])
    with pytest.raises(ValueError, match="unique names") as info:
        Pipeline([node(identity, "q", "r", name="x"), inner])
    assert "Pipeline([Node(identity, 'a', 'b', 'x')]):\n  - x" in str(info.value)


def test_mixing_a_dataset_with_and_without_transcoding_is_rejected() -> None:
    nodes = [node(identity, "a", "cars@pandas", name="w"), node(identity, "cars", "z", name="r")]
    with pytest.raises(
        InvalidPipelineError, match=r"used with transcoding.*without the separator: cars"
    ):
        Pipeline(nodes)


@pytest.mark.parametrize(
    "outputs",
    [("x", "x"), ("x@pandas", "x@spark")],
)
def test_an_output_produced_twice_is_rejected_with_both_producers(outputs: tuple[str, str]) -> None:
    first = node(identity, "a", outputs[0], name="first")
    second = node(identity, "b", outputs[1], name="second")
    with pytest.raises(OutputNotUniqueError) as info:
        Pipeline([first, second])
    message = str(info.value)
    assert "Output(s) ['x'] are returned by more than one nodes" in message
    assert "'x' by ['first', 'second']" in message


def test_one_node_writing_two_formats_of_a_dataset_is_rejected() -> None:
    with pytest.raises(OutputNotUniqueError, match=r"\['x'\]"):
        Pipeline([node(split_pair, "p", ["x@a", "x@b"], name="writer")])


def test_a_dataset_confirmed_twice_is_rejected() -> None:
    first = node(identity, "a", "b", name="first", confirms="a")
    second = node(identity, "a", "c", name="second", confirms=["a"])
    with pytest.raises(
        ConfirmNotUniqueError, match=r"\['a'\] datasets are confirmed by more"
    ) as info:
        Pipeline([first, second])
    assert "'a' by ['first', 'second']" in str(info.value)


def test_a_cycle_is_reported_in_order() -> None:
    nodes = [
        node(identity, "z", "x", name="c"),
        node(identity, "x", "y", name="a"),
        node(identity, "y", "z", name="b"),
        node(identity, "x", "free", name="downstream"),
    ]
    with pytest.raises(CircularDependencyError) as info:
        Pipeline(nodes)
    assert str(info.value) == (
        "Circular dependencies exist among the following 3 item(s): a -> b -> c -> a"
    )
    assert isinstance(info.value, PipelineError)


def test_every_cycle_is_reported() -> None:
    nodes = [
        node(identity, "q", "p", name="p1"),
        node(identity, "p", "q", name="p2"),
        node(biconcat, ["a", "d"], "b", name="m1"),
        node(identity, "b", "c", name="m2"),
        node(split_pair, "c", ["a", "d"], name="m3"),
    ]
    with pytest.raises(CircularDependencyError) as info:
        Pipeline(nodes)
    assert str(info.value) == (
        "Circular dependencies exist among the following 5 item(s): "
        "m1 -> m2 -> m3 -> m1; p1 -> p2 -> p1"
    )


def test_a_loop_bigger_than_the_cycle_shown_names_the_rest() -> None:
    nodes = [
        node(biconcat, ["c", "e"], "a", name="n1"),
        node(identity, "a", "b", name="n2"),
        node(split_pair, "b", ["c", "d"], name="n3"),
        node(identity, "d", "e", name="n4"),
    ]
    with pytest.raises(
        CircularDependencyError,
        match=r"4 item\(s\): n1 -> n2 -> n3 -> n1 \(in one loop with \['n4'\]\)",
    ):
        Pipeline(nodes)


def test_tags_are_added_to_every_node(chain: Pipeline) -> None:
    tagged = Pipeline([chain, node(identity, "d", "e", name="n4", tags="own")], tags=["all"])
    assert {n.name: n.tags for n in tagged.nodes} == {
        "n1": {"all"},
        "n2": {"all"},
        "n3": {"all"},
        "n4": {"all", "own"},
    }
    with pytest.raises(InvalidNodeError, match="not a valid node tag"):
        Pipeline(chain, tags="bad tag")


# --- order ---------------------------------------------------------------------------------------


def test_nodes_are_topological_and_layers_sorted_by_name(diamond: Pipeline) -> None:
    assert [[n.name for n in layer] for layer in diamond.grouped_nodes] == [
        ["alone", "src"],
        ["left", "right"],
        ["join"],
    ]
    assert names(diamond) == ["alone", "src", "left", "right", "join"]


def test_nodes_is_a_copy(chain: Pipeline) -> None:
    chain.nodes.clear()
    chain.grouped_nodes[0].clear()
    assert names(chain) == ["n1", "n2", "n3"]
    assert len(chain.grouped_nodes[0]) == 1


def test_node_dependencies_are_transcoding_aware() -> None:
    writer = node(identity, "a", "x@pandas", name="writer")
    reader = node(identity, "x@spark", "y", name="reader")
    both = node(biconcat, ["x@pandas", "y"], "z", name="both")
    deps = Pipeline([writer, reader, both]).node_dependencies
    assert deps == {writer: set(), reader: {writer}, both: {writer, reader}}


def test_node_dependencies_is_a_fresh_copy(chain: Pipeline) -> None:
    deps = chain.node_dependencies
    deps.clear()
    assert len(chain.node_dependencies) == 3


# --- datasets ------------------------------------------------------------------------------------


def test_dataset_sets(diamond: Pipeline) -> None:
    assert diamond.inputs() == {"raw", "other"}
    assert diamond.outputs() == {"joined", "lonely"}
    assert diamond.all_inputs() == {"raw", "clean", "l", "r", "other"}
    assert diamond.all_outputs() == {"clean", "l", "r", "joined", "lonely"}
    assert diamond.datasets() == {"raw", "clean", "l", "r", "joined", "other", "lonely"}


def test_parameters_are_free_inputs() -> None:
    made = Pipeline([node(biconcat, ["params:rate", "parameters"], "out", name="n")])
    assert made.inputs() == {"params:rate", "parameters"}


def test_transcoded_intermediates_are_neither_inputs_nor_outputs() -> None:
    made = Pipeline(
        [
            node(identity, "raw@csv", "cars@pandas", name="load"),
            node(identity, "cars@spark", "report", name="use"),
        ]
    )
    assert made.inputs() == {"raw@csv"}
    assert made.outputs() == {"report"}
    assert made.datasets() == {"raw@csv", "cars@pandas", "cars@spark", "report"}


def test_dataset_sets_are_copies(chain: Pipeline) -> None:
    chain.inputs().add("zzz")
    chain.datasets().clear()
    assert chain.inputs() == {"a"}
    assert len(chain.datasets()) == 4


# --- operators -----------------------------------------------------------------------------------


def test_add_and_or_are_unions_that_merge_equal_nodes(chain: Pipeline, diamond: Pipeline) -> None:
    overlap = Pipeline([chain.nodes[0], node(identity, "x", "y", name="extra")])
    for union in (chain + overlap, chain | overlap):
        assert sorted(names(union)) == ["extra", "n1", "n2", "n3"]
    assert sorted(names(chain + diamond)) == sorted(names(chain) + names(diamond))


def test_adding_a_different_node_with_a_taken_name_fails(chain: Pipeline) -> None:
    clash = Pipeline([node(identity, "q", "r", name="n1")])
    with pytest.raises(InvalidPipelineError, match="  - n1"):
        _ = chain + clash


def test_sub_and_and(chain: Pipeline) -> None:
    first_two = chain.only_nodes("n1", "n2")
    assert names(chain - first_two) == ["n3"]
    assert names(chain & first_two) == ["n1", "n2"]
    assert names(chain - chain) == []


def test_sum_of_pipelines(chain: Pipeline, diamond: Pipeline) -> None:
    total = sum([chain, diamond])
    assert isinstance(total, Pipeline)
    assert len(total.nodes) == 8


@pytest.mark.parametrize("operator", ["__add__", "__sub__", "__and__", "__or__"])
def test_operators_with_non_pipelines(chain: Pipeline, operator: str) -> None:
    assert getattr(chain, operator)(node(identity, "a", "b")) is NotImplemented
    with pytest.raises(TypeError):
        _ = chain + 1
    with pytest.raises(TypeError):
        _ = 1 + chain


def test_tag_returns_a_new_pipeline(chain: Pipeline) -> None:
    tagged = chain.tag(["x", "y"])
    assert all(n.tags == {"x", "y"} for n in tagged.nodes)
    assert all(n.tags == set() for n in chain.nodes)
    assert names(tagged) == names(chain)


# --- views ---------------------------------------------------------------------------------------


def test_describe(diamond: Pipeline) -> None:
    assert diamond.describe() == (
        "#### Pipeline execution order ####\n"
        "Inputs: other, raw\n\n"
        "alone\nsrc\nleft\nright\njoin\n\n"
        "Outputs: joined, lonely\n"
        "##################################"
    )
    assert "join: biconcat([l;r]) -> [joined]" in diamond.describe(names_only=False)
    assert "Inputs: None" in Pipeline([]).describe()


def test_to_json(chain: Pipeline) -> None:
    tagged = chain.tag(["b", "a"])
    document = json.loads(tagged.to_json())
    assert document["ductwork_version"] == ductwork.__version__
    assert document["pipeline"][0] == {
        "name": "n1",
        "inputs": ["a"],
        "outputs": ["b"],
        "tags": ["a", "b"],
    }
    names = [entry["name"] for entry in json.loads(chain.to_json())["pipeline"]]
    assert names == ["n1", "n2", "n3"]


def test_transcoding_separator_is_still_importable_from_the_pipeline_module() -> None:
    with pytest.warns(ductwork.KedroDeprecationWarning, match="moved to 'ductwork.pipeline"):
        from ductwork.pipeline.pipeline import TRANSCODING_SEPARATOR
    assert TRANSCODING_SEPARATOR == "@"


def test_group_nodes_by_namespace() -> None:
    made = Pipeline(
        [
            node(identity, "raw", "clean", name="load"),
            node(identity, "clean", "x", name="a", namespace="prep"),
            node(identity, "x", "y", name="b", namespace="prep.deep"),
            node(identity, "y", "out", name="report"),
        ]
    )
    assert made.group_nodes_by("namespace") == [
        GroupedNodes(name="load", type="nodes", nodes=["load"], dependencies=[]),
        GroupedNodes(
            name="prep",
            type="namespace",
            nodes=["prep.a", "prep.deep.b"],
            dependencies=["load"],
        ),
        GroupedNodes(name="report", type="nodes", nodes=["report"], dependencies=["prep"]),
    ]
    assert [g.name for g in made.group_nodes_by(None)] == [
        "load",
        "prep.a",
        "prep.deep.b",
        "report",
    ]
    assert made.group_nodes_by(None)[2].dependencies == ["prep.a"]


def test_group_nodes_by_something_else_fails(chain: Pipeline) -> None:
    with pytest.raises(PipelineQueryError, match="Unsupported group_by strategy: tags"):
        chain.group_nodes_by("tags")


def test_repr_is_short_for_big_pipelines() -> None:
    big = Pipeline([node(identity, f"d{i}", f"d{i + 1}", name=f"n{i:02}") for i in range(25)])
    text = repr(big)
    assert text.startswith("Pipeline([\nNode(identity, 'd0', 'd1', 'n00'),")
    assert text.count("Node(") == 10
    assert "... (15 more)" in text
    assert repr(Pipeline([])) == "Pipeline([])"


def test_pipelines_pickle(diamond: Pipeline) -> None:
    clone: Any = pickle.loads(pickle.dumps(diamond))
    assert clone.nodes == diamond.nodes
    assert clone.from_nodes("src").nodes == diamond.from_nodes("src").nodes


def test_pipeline_of_one_node_with_no_inputs() -> None:
    made = Pipeline([node(constant, None, "x", name="c")])
    assert made.inputs() == set()
    assert made.outputs() == {"x"}
    assert isinstance(made.nodes[0], Node)

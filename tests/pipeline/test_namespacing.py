"""Namespaces and renaming: ``pipeline(..., namespace, inputs, outputs, parameters)``."""

from __future__ import annotations

import warnings
from typing import Any

import pytest

from ductwork.exceptions import PipelineError, PipelineMappingError
from ductwork.pipeline import Node, Pipeline, node, pipeline
from tests.pipeline.funcs import biconcat, identity, triconcat


def only(p: Pipeline) -> Node:
    assert len(p.nodes) == 1
    return p.nodes[0]


@pytest.fixture
def modular() -> Pipeline:
    """A reusable piece: raw + params:scale -> cleaned -> summary, with the whole dict too."""
    return Pipeline(
        [
            node(biconcat, ["raw", "params:scale"], "cleaned", name="clean"),
            node(biconcat, ["cleaned", "parameters"], "summary", name="summarise"),
        ]
    )


def io(p: Pipeline) -> dict[str, tuple[list[str], list[str]]]:
    return {n.name: (n.inputs, n.outputs) for n in p.nodes}


def test_a_namespace_prefixes_datasets_parameters_and_node_names(modular: Pipeline) -> None:
    spaced = pipeline(modular, namespace="ns")
    assert io(spaced) == {
        "ns.clean": (["ns.raw", "params:ns.scale"], ["ns.cleaned"]),
        "ns.summarise": (["ns.cleaned", "parameters"], ["ns.summary"]),
    }
    assert {n.namespace for n in spaced.nodes} == {"ns"}
    assert modular.nodes[0].name == "clean"  # the original is untouched


def test_names_given_as_inputs_outputs_parameters_keep_their_names(modular: Pipeline) -> None:
    spaced = pipeline(
        modular, namespace="ns", inputs="raw", outputs={"summary"}, parameters=["scale"]
    )
    assert io(spaced) == {
        "ns.clean": (["raw", "params:scale"], ["ns.cleaned"]),
        "ns.summarise": (["ns.cleaned", "parameters"], ["summary"]),
    }


def test_dicts_rename(modular: Pipeline) -> None:
    spaced = pipeline(
        modular,
        namespace="ns",
        inputs={"raw": "source"},
        outputs={"summary": "report"},
        parameters={"params:scale": "params:factor"},
    )
    assert io(spaced)["ns.clean"] == (["source", "params:factor"], ["ns.cleaned"])
    assert io(spaced)["ns.summarise"][1] == ["report"]


def test_parameters_may_omit_the_prefix(modular: Pipeline) -> None:
    renamed = pipeline(modular, parameters={"scale": "factor"})
    assert io(renamed)["clean"][0] == ["raw", "params:factor"]


def test_mapping_without_a_namespace_only_renames(modular: Pipeline) -> None:
    renamed = pipeline(modular, inputs={"raw": "source"})
    assert io(renamed) == {
        "clean": (["source", "params:scale"], ["cleaned"]),
        "summarise": (["cleaned", "parameters"], ["summary"]),
    }
    assert all(n.namespace is None for n in renamed.nodes)


def test_dict_inputs_and_outputs_keep_their_keys() -> None:
    made = Pipeline([node(biconcat, {"a": "x", "b": "y"}, {"k": "z"}, name="n")])
    spaced = pipeline(made, namespace="ns", inputs={"x": "X"})
    renamed = only(spaced)
    assert renamed.inputs == ["X", "ns.y"]
    assert renamed._inputs == {"a": "X", "b": "ns.y"}
    assert renamed._outputs == {"k": "ns.z"}


def test_transcoded_names_keep_their_format() -> None:
    made = Pipeline(
        [
            node(identity, "cars@csv", "clean@pandas", name="load"),
            node(identity, "clean@spark", "out", name="use"),
        ]
    )
    spaced = pipeline(made, namespace="ns", inputs={"cars": "autos"})
    assert io(spaced) == {
        "ns.load": (["autos@csv"], ["ns.clean@pandas"]),
        "ns.use": (["ns.clean@spark"], ["ns.out"]),
    }


def test_confirms_are_renamed() -> None:
    made = Pipeline([node(identity, "a", "b", name="n", confirms="a")])
    assert only(pipeline(made, namespace="ns")).confirms == ["ns.a"]
    assert only(pipeline(made, namespace="ns", inputs="a")).confirms == ["a"]


def test_namespaces_nest() -> None:
    inner = pipeline([node(identity, "x", "y", name="n")], namespace="inner")
    outer = pipeline(inner, namespace="outer")
    made = only(outer)
    assert (made.name, made.namespace) == ("outer.inner.n", "outer.inner")
    assert (made.inputs, made.outputs) == (["outer.inner.x"], ["outer.inner.y"])
    assert made.namespace_prefixes == ["outer", "outer.inner"]


def test_without_prefixing_only_the_node_namespace_changes(modular: Pipeline) -> None:
    spaced = pipeline(
        modular,
        namespace="ns",
        inputs={"raw": "source"},
        prefix_datasets_with_namespace=False,
    )
    assert io(spaced) == {
        "ns.clean": (["source", "params:scale"], ["cleaned"]),
        "ns.summarise": (["cleaned", "parameters"], ["summary"]),
    }
    assert (
        Pipeline(modular, namespace="ns", prefix_datasets_with_namespace=False).nodes[0].namespace
        == "ns"
    )


def test_tags_and_namespace_together(modular: Pipeline) -> None:
    spaced = pipeline(modular, namespace="ns", tags="shared")
    assert all(n.tags == {"shared"} for n in spaced.nodes)


# --- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"inputs": "rwa"},
            "Failed to map datasets and/or parameters onto the nodes provided: rwa - did you "
            "mean one of these instead: raw",
        ),
        (
            {"outputs": {"sumary": "x"}, "parameters": "scle"},
            "Failed to map datasets and/or parameters onto the nodes provided: params:scle, "
            "sumary - did you mean one of these instead: params:scale, summary",
        ),
        (
            {"inputs": "zzz_unrelated"},
            "Failed to map datasets and/or parameters onto the nodes provided: zzz_unrelated",
        ),
        (
            {"inputs": "params:scale"},
            "Parameters should be specified in the 'parameters' argument, not 'inputs': "
            "['params:scale']",
        ),
        (
            {"inputs": {"cleaned": "x"}},
            "Inputs must not be outputs from another node in the same pipeline; these are: "
            "['cleaned']",
        ),
        (
            {"outputs": "raw"},
            "All outputs must be generated by some node within the pipeline; these are free "
            "inputs: ['raw']",
        ),
        (
            {"inputs": {"raw": 3}},
            "'inputs' must map dataset names to dataset names, got 'raw': 3.",
        ),
    ],
)
def test_mapping_errors(modular: Pipeline, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(PipelineMappingError) as info:
        pipeline(modular, namespace="ns", **kwargs)
    assert str(info.value) == message
    assert isinstance(info.value, PipelineError)


def test_an_intermediate_may_be_exposed_as_an_output(modular: Pipeline) -> None:
    spaced = pipeline(modular, namespace="ns", outputs="cleaned")
    assert io(spaced)["ns.clean"][1] == ["cleaned"]
    assert io(spaced)["ns.summarise"][0] == ["cleaned", "parameters"]


# --- reuse ---------------------------------------------------------------------------------------


def test_one_piece_reused_twice_and_connected(modular: Pipeline) -> None:
    first = pipeline(modular, namespace="first", inputs="raw", outputs={"summary": "middle"})
    second = pipeline(modular, namespace="second", inputs={"raw": "middle"})
    both = first + second
    assert both.inputs() == {"raw", "params:first.scale", "params:second.scale", "parameters"}
    assert both.outputs() == {"second.summary"}
    assert [n.name for n in both.nodes] == [
        "first.clean",
        "first.summarise",
        "second.clean",
        "second.summarise",
    ]


# --- interrupted namespaces ----------------------------------------------------------------------


def interrupted_warnings(nodes: list[Node]) -> list[str]:
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        Pipeline(nodes)
    return [str(w.message) for w in record if "interrupted" in str(w.message)]


def test_a_namespace_left_and_re_entered_warns() -> None:
    messages = interrupted_warnings(
        [
            node(identity, "a", "b", name="one", namespace="ns"),
            node(identity, "b", "c", name="outside"),
            node(identity, "c", "d", name="two", namespace="ns"),
        ]
    )
    assert len(messages) == 1
    assert messages[0] == "Namespace 'ns' is interrupted by nodes ['outside'] and thus invalid."


def test_the_interrupted_namespace_warning_points_at_the_caller() -> None:
    nodes = [
        node(identity, "a", "b", name="one", namespace="ns"),
        node(identity, "b", "c", name="outside"),
        node(identity, "c", "d", name="two", namespace="ns"),
    ]
    with pytest.warns(UserWarning, match="interrupted") as record:
        pipeline(nodes)
    assert record[0].filename == __file__


def test_independent_or_contiguous_namespaces_do_not_warn() -> None:
    messages = interrupted_warnings(
        [
            node(identity, "a", "b", name="a1", namespace="x"),
            node(identity, "b", "c", name="a2", namespace="x"),
            node(identity, "p", "q", name="b1", namespace="y"),
            node(identity, "q", "r", name="b2", namespace="y"),
            node(biconcat, ["c", "r"], "s", name="join"),
            node(identity, "a", "t", name="side"),
        ]
    )
    assert messages == []


def test_a_nested_namespace_interrupted_by_a_sibling_warns_for_it_alone() -> None:
    messages = interrupted_warnings(
        [
            node(identity, "a", "b", name="n1", namespace="top.left"),
            node(identity, "b", "c", name="n2", namespace="top.right"),
            node(triconcat, ["a", "b", "c"], "d", name="n3", namespace="top.left"),
        ]
    )
    assert messages == [
        "Namespace 'top.left' is interrupted by nodes ['top.right.n2'] and thus invalid."
    ]

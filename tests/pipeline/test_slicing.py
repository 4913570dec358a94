"""Slicing queries: by node, dataset, tag and namespace; ``filter``; their errors."""

from __future__ import annotations

from typing import Any

import pytest

from ductwork.exceptions import (
    EmptyPipelineError,
    UnknownDatasetError,
    UnknownNamespaceError,
    UnknownNodeError,
)
from ductwork.pipeline import Pipeline, node, pipeline
from tests.pipeline.funcs import biconcat, identity


def names(p: Pipeline) -> set[str]:
    return {n.name for n in p.nodes}


# --- by node -------------------------------------------------------------------------------------


def test_only_nodes(diamond: Pipeline) -> None:
    assert names(diamond.only_nodes("left", "join")) == {"left", "join"}
    assert names(diamond.only_nodes()) == set()


def test_from_nodes_and_to_nodes(diamond: Pipeline) -> None:
    assert names(diamond.from_nodes("left")) == {"left", "join"}
    assert names(diamond.from_nodes("src")) == {"src", "left", "right", "join"}
    assert names(diamond.to_nodes("left")) == {"left", "src"}
    assert names(diamond.to_nodes("join", "alone")) == {"src", "left", "right", "join", "alone"}


@pytest.mark.parametrize("query", ["only_nodes", "from_nodes", "to_nodes"])
def test_unknown_node_names_are_listed_with_suggestions(diamond: Pipeline, query: str) -> None:
    with pytest.raises(UnknownNodeError) as info:
        getattr(diamond, query)("left", "rigth", "nothing_like_it")
    assert str(info.value) == (
        "Pipeline does not contain nodes named ['rigth', 'nothing_like_it']. "
        "Did you mean: ['right']?"
    )
    assert isinstance(info.value, ValueError)


def test_unknown_node_name_suggests_the_namespaced_node() -> None:
    made = pipeline([node(identity, "a", "b", name="clean")], namespace="prep")
    with pytest.raises(
        UnknownNodeError, match=r"named \['clean'\]\. Did you mean: \['prep.clean'\]\?"
    ):
        made.only_nodes("clean")


# --- by dataset ----------------------------------------------------------------------------------


def test_direct_consumers_and_producers(diamond: Pipeline) -> None:
    assert names(diamond.only_nodes_with_inputs("clean")) == {"left", "right"}
    assert names(diamond.only_nodes_with_inputs("l", "other")) == {"join", "alone"}
    assert names(diamond.only_nodes_with_outputs("l", "r")) == {"left", "right"}
    assert names(diamond.only_nodes_with_outputs("raw")) == set()


def test_transitive_downstream_and_upstream(diamond: Pipeline) -> None:
    assert names(diamond.from_inputs("clean")) == {"left", "right", "join"}
    assert names(diamond.from_inputs("raw")) == {"src", "left", "right", "join"}
    assert names(diamond.to_outputs("l")) == {"left", "src"}
    assert names(diamond.to_outputs("joined", "lonely")) == names(diamond)
    assert names(diamond.to_outputs("raw")) == set()


@pytest.mark.parametrize(
    "query", ["only_nodes_with_inputs", "only_nodes_with_outputs", "from_inputs", "to_outputs"]
)
def test_unknown_datasets_are_listed_with_suggestions(diamond: Pipeline, query: str) -> None:
    with pytest.raises(UnknownDatasetError) as info:
        getattr(diamond, query)("clean", "claen")
    assert str(info.value) == (
        "Pipeline does not contain datasets named ['claen']. Did you mean: ['clean']?"
    )


@pytest.fixture
def transcoded() -> Pipeline:
    return Pipeline(
        [
            node(identity, "raw", "cars@pandas", name="write"),
            node(identity, "cars@pandas", "summary", name="read_pandas"),
            node(identity, "cars@spark", "model", name="read_spark"),
            node(biconcat, ["summary", "model"], "report", name="report"),
        ]
    )


def test_a_base_name_matches_every_format(transcoded: Pipeline) -> None:
    assert names(transcoded.only_nodes_with_inputs("cars")) == {"read_pandas", "read_spark"}
    assert names(transcoded.only_nodes_with_outputs("cars")) == {"write"}
    assert names(transcoded.from_inputs("cars")) == {"read_pandas", "read_spark", "report"}
    assert names(transcoded.to_outputs("cars")) == {"write"}


def test_a_full_name_matches_that_format_only(transcoded: Pipeline) -> None:
    assert names(transcoded.only_nodes_with_inputs("cars@spark")) == {"read_spark"}
    assert names(transcoded.from_inputs("cars@spark")) == {"read_spark", "report"}
    assert names(transcoded.only_nodes_with_outputs("cars@pandas")) == {"write"}
    assert names(transcoded.to_outputs("cars@pandas")) == {"write"}
    assert names(transcoded.to_outputs("model")) == {"read_spark", "write"}


def test_from_nodes_follows_transcoded_edges(transcoded: Pipeline) -> None:
    assert names(transcoded.from_nodes("write")) == names(transcoded) - {"never"}
    assert names(transcoded.to_nodes("read_spark")) == {"read_spark", "write"}


def test_an_unknown_format_is_an_unknown_dataset(transcoded: Pipeline) -> None:
    with pytest.raises(UnknownDatasetError, match=r"\['cars@csv'\]"):
        transcoded.only_nodes_with_inputs("cars@csv")


# --- by tag and namespace ------------------------------------------------------------------------


def test_only_nodes_with_tags(diamond: Pipeline) -> None:
    assert names(diamond.only_nodes_with_tags("branch")) == {"left", "right"}
    assert names(diamond.only_nodes_with_tags("prep", "misc")) == {"src", "alone"}
    assert names(diamond.only_nodes_with_tags("unknown")) == set()
    assert names(diamond.only_nodes_with_tags()) == set()


@pytest.fixture
def nested() -> Pipeline:
    inner = pipeline([node(identity, "x", "y", name="deep")], namespace="inner", outputs="y")
    outer = pipeline([inner, node(identity, "y", "z", name="top")], namespace="outer")
    return outer + Pipeline([node(identity, "free", "other", name="plain")])


def test_only_nodes_with_namespaces(nested: Pipeline) -> None:
    assert names(nested.only_nodes_with_namespaces(["outer"])) == {"outer.inner.deep", "outer.top"}
    assert names(nested.only_nodes_with_namespaces(["outer.inner"])) == {"outer.inner.deep"}
    assert names(nested.only_nodes_with_namespaces("outer.inner")) == {"outer.inner.deep"}


def test_a_namespace_matches_whole_parts_only(nested: Pipeline) -> None:
    with pytest.raises(UnknownNamespaceError, match=r"with the following namespaces: \['out'\]"):
        nested.only_nodes_with_namespaces(["outer", "out"])


def test_unknown_namespace_suggests_close_ones(nested: Pipeline) -> None:
    with pytest.raises(UnknownNamespaceError, match=r"Did you mean: \['outer.inner'"):
        nested.only_nodes_with_namespaces(["outer.iner"])


# --- filter --------------------------------------------------------------------------------------


def test_filters_intersect(diamond: Pipeline) -> None:
    assert names(diamond.filter(tags=["branch"], from_nodes=["src"])) == {"left", "right"}
    assert names(diamond.filter(from_inputs=["clean"], to_outputs=["l"])) == {"left"}
    assert names(diamond.filter(node_names=["src", "join"], to_nodes=["join"])) == {"src", "join"}
    assert names(diamond.filter()) == names(diamond)


def test_filter_order_does_not_matter(diamond: Pipeline) -> None:
    # to_nodes applied to the whole pipeline keeps src, even though the tag filter drops it.
    assert names(diamond.filter(tags=["prep", "branch"], to_nodes=["left"])) == {"src", "left"}


def test_filter_accepts_a_lone_string(diamond: Pipeline) -> None:
    assert names(diamond.filter(tags="branch")) == {"left", "right"}
    assert names(diamond.filter(node_names="join")) == {"join"}


def test_filter_by_namespace(nested: Pipeline) -> None:
    assert names(nested.filter(node_namespaces=["outer"], to_nodes=["outer.top"])) == {
        "outer.inner.deep",
        "outer.top",
    }


def test_filter_that_leaves_nothing_fails(diamond: Pipeline) -> None:
    with pytest.raises(EmptyPipelineError) as info:
        diamond.filter(tags=["misc"], from_nodes=["src"])
    message = str(info.value)
    assert message.startswith("Pipeline contains no nodes after applying all provided filters")
    assert "(tags, from_nodes)" in message
    with pytest.raises(ValueError, match="no nodes after applying"):
        Pipeline([]).filter()


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"node_names": ["nope"]}, UnknownNodeError),
        ({"from_inputs": ["nope"]}, UnknownDatasetError),
        ({"node_namespaces": ["nope"]}, UnknownNamespaceError),
    ],
)
def test_filter_passes_query_errors_on(
    diamond: Pipeline, kwargs: dict[str, Any], error: type[Exception]
) -> None:
    with pytest.raises(error):
        diamond.filter(**kwargs)


def test_slices_are_new_valid_pipelines(diamond: Pipeline) -> None:
    piece = diamond.from_nodes("left")
    assert piece is not diamond
    assert [n.name for n in piece.nodes] == ["left", "join"]
    assert piece.inputs() == {"clean", "r"}
    assert piece.node_dependencies[piece.nodes[1]] == {piece.nodes[0]}

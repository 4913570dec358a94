from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ductwork.pipeline import Node, Pipeline, node
from ductwork.pipeline.graph import PipelineGraph
from ductwork.scheduling import nodes_to_rerun, resume_from_nodes
from tests.scheduling.fakes import anything, graph

# Each case: pipeline, persisted datasets, the nodes that finished, the expected suggestion.
CASES = {
    "persisted chain fails in the middle": (
        "a: x -> y\nb: y -> z\nc: z -> out",
        {"x", "y", "z", "out"},
        {"a"},
        ["b"],
    ),
    "in-memory input sends the resume back to its producer": (
        "a: x -> y\nb: y -> z\nc: z -> out",
        {"x", "z", "out"},
        {"a"},
        ["a"],
    ),
    "in-memory chain goes back to the start": (
        "a: x -> y\nb: y -> z\nc: z -> out",
        {"x", "out"},
        {"a", "b"},
        ["a"],
    ),
    "two finished branches, one in memory": (
        "left: x -> l\nright: x -> r\njoin: l, r -> out",
        {"x", "l", "out"},
        {"left", "right"},
        ["right"],
    ),
    "parameters are never a reason to go back": (
        "a: x -> y\nb: y, params:alpha -> out",
        {"x", "y", "out"},
        {"a"},
        ["b"],
    ),
    "unfinished nodes reading only from each other start where they read from outside": (
        "a: x -> y\nb: y -> z\nc: z -> out",
        {"x", "y", "z", "out"},
        set(),
        ["a"],
    ),
    "a finished side branch is not re-run": (
        "a: x -> y\nside: y -> s\nb: y -> out",
        {"x", "y", "s", "out"},
        {"a", "side"},
        ["b"],
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_resume_suggestion(case: str) -> None:
    spec, persisted, finished, expected = CASES[case]
    g = graph(spec)
    unfinished = [n for n in g.nodes if n.name not in finished]
    assert resume_from_nodes(g, unfinished, persisted.__contains__) == expected


def test_nothing_unfinished_suggests_nothing() -> None:
    g = graph("a: x -> y")
    assert resume_from_nodes(g, [], lambda _: True) == []
    assert nodes_to_rerun(g, [], lambda _: True) == []


def descendants(g: PipelineGraph, names: list[str]) -> set[str]:
    """The naive ``from_nodes``: the named nodes and everything downstream."""
    result = set(names)
    changed = True
    while changed:
        changed = False
        for n in g.nodes:
            if n.name not in result and any(p.name in result for p in g.parents(n)):
                result.add(n.name)
                changed = True
    return result


@st.composite
def failed_runs(draw: st.DrawFn) -> tuple[PipelineGraph, list[Node], set[str]]:
    count = draw(st.integers(1, 30))
    nodes = []
    for i in range(count):
        picks = draw(st.lists(st.integers(0, i - 1), max_size=3, unique=True)) if i else []
        nodes.append(node(anything, [f"d{p}" for p in picks] or ["x"], f"d{i}", name=f"n{i:02d}"))
    g = Pipeline(nodes).graph
    # The run finished some nodes whose producers had all finished; one failed; the rest waited.
    finished: set[Node] = set()
    for n in g.nodes:
        if set(g.parents(n)) <= finished and draw(st.booleans()):
            finished.add(n)
    persisted = {f"d{i}" for i in range(count) if draw(st.booleans())} | {"x"}
    return g, [n for n in g.nodes if n not in finished], persisted


@settings(max_examples=200, deadline=None)
@given(run=failed_runs())
def test_from_nodes_of_the_suggestion_is_exactly_what_must_rerun(
    run: tuple[PipelineGraph, list[Node], set[str]],
) -> None:
    g, unfinished, persisted = run
    answer = resume_from_nodes(g, unfinished, persisted.__contains__)
    rerun = {n.name for n in nodes_to_rerun(g, unfinished, persisted.__contains__)}
    assert descendants(g, answer) == rerun
    assert {n.name for n in unfinished} <= rerun


@settings(max_examples=100, deadline=None)
@given(run=failed_runs())
def test_with_everything_persisted_only_the_unfinished_rerun(
    run: tuple[PipelineGraph, list[Node], set[str]],
) -> None:
    g, unfinished, _ = run
    rerun = nodes_to_rerun(g, unfinished, lambda _: True)
    assert {n.name for n in rerun} == {n.name for n in unfinished}

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ductwork.pipeline import Node, Pipeline, node
from ductwork.scheduling import Scheduler
from tests.scheduling.fakes import anything, pipeline


def make(spec: str) -> tuple[Scheduler, dict[str, Node]]:
    p = pipeline(spec)
    scheduler = Scheduler(p.graph, keep=p.inputs() | p.outputs())
    return scheduler, {n.name: n for n in p.nodes}


def run_in_order(scheduler: Scheduler) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """Run like a one-at-a-time runner; record the order and what each completion released."""
    order: list[str] = []
    released: list[tuple[str, list[str]]] = []
    while scheduler.is_active():
        ready = scheduler.get_ready()
        assert ready, "active scheduler with nothing ready and nothing running"
        for each in ready:
            order.append(each.name)
            released.append((each.name, scheduler.done(each)))
    return order, released


CHAIN = """
a: x -> y
b: y -> z
c: z -> out
"""

DIAMOND = """
top: x -> l, r
left: l -> l2
right: r -> r2
bottom: l2, r2 -> out
"""


def test_chain_runs_in_order_and_releases_each_intermediate_after_its_consumer() -> None:
    scheduler, _ = make(CHAIN)
    order, released = run_in_order(scheduler)
    assert order == ["a", "b", "c"]
    assert released == [("a", []), ("b", ["y"]), ("c", ["z"])]


def test_free_inputs_and_outputs_are_never_released() -> None:
    scheduler, _ = make(CHAIN)
    _, released = run_in_order(scheduler)
    names = {name for _, names in released for name in names}
    assert "x" not in names
    assert "out" not in names


def test_diamond_hands_out_both_branches_together_in_index_order() -> None:
    scheduler, nodes = make(DIAMOND)
    assert scheduler.get_ready() == [nodes["top"]]
    assert scheduler.get_ready() == []
    assert scheduler.done(nodes["top"]) == []
    assert [n.name for n in scheduler.get_ready()] == ["left", "right"]
    assert scheduler.done(nodes["right"]) == ["r"]
    assert scheduler.get_ready() == []
    assert scheduler.done(nodes["left"]) == ["l"]
    assert scheduler.get_ready() == [nodes["bottom"]]
    assert sorted(scheduler.done(nodes["bottom"])) == ["l2", "r2"]
    assert not scheduler.is_active()


def test_dataset_with_several_consumers_is_released_once_after_the_last() -> None:
    scheduler, nodes = make(
        """
        p: x -> shared
        c1: shared -> o1
        c2: shared -> o2
        """
    )
    scheduler.get_ready()
    scheduler.done(nodes["p"])
    scheduler.get_ready()
    assert scheduler.done(nodes["c2"]) == []
    assert scheduler.done(nodes["c1"]) == ["shared"]


def test_transcoded_output_is_released_right_after_its_producer() -> None:
    scheduler, nodes = make(
        """
        p: x -> d@pandas
        c: d@spark -> out
        """
    )
    scheduler.get_ready()
    assert scheduler.done(nodes["p"]) == ["d@pandas"]
    scheduler.get_ready()
    assert scheduler.done(nodes["c"]) == ["d@spark"]


def test_reporting_a_node_that_is_not_running_is_an_error() -> None:
    scheduler, nodes = make(CHAIN)
    with pytest.raises(ValueError, match="'b' is not running"):
        scheduler.done(nodes["b"])
    scheduler.get_ready()
    scheduler.done(nodes["a"])
    with pytest.raises(ValueError, match="'a' is not running"):
        scheduler.done(nodes["a"])


def test_failure_withdraws_everything_downstream_and_nothing_else() -> None:
    scheduler, nodes = make(
        """
        top: x -> l, r
        left: l -> l2
        right: r -> r2
        after_left: l2 -> l3
        bottom: l3, r2 -> out
        side: r2 -> side_out
        """
    )
    scheduler.get_ready()
    scheduler.done(nodes["top"])
    assert [n.name for n in scheduler.get_ready()] == ["left", "right"]
    withdrawn = scheduler.failed(nodes["left"])
    assert [n.name for n in withdrawn] == ["after_left", "bottom"]
    assert scheduler.running() == [nodes["right"]]
    scheduler.done(nodes["right"])
    assert [n.name for n in scheduler.get_ready()] == ["side"]
    scheduler.done(nodes["side"])
    assert not scheduler.is_active()


def test_empty_pipeline_is_not_active() -> None:
    scheduler = Scheduler(Pipeline([]).graph)
    assert not scheduler.is_active()
    assert scheduler.get_ready() == []


@st.composite
def random_dags(draw: st.DrawFn) -> list[Node]:
    count = draw(st.integers(min_value=1, max_value=40))
    nodes = []
    for i in range(count):
        parents = draw(st.lists(st.integers(0, i - 1), max_size=3, unique=True)) if i else []
        extra = draw(st.booleans())
        inputs = [f"d{p}" for p in parents] + (["free_in"] if extra or not parents else [])
        nodes.append(node(anything, inputs, f"d{i}", name=f"n{i:02d}"))
    return nodes


@settings(max_examples=150, deadline=None)
@given(nodes=random_dags(), seed=st.integers(0, 2**32 - 1))
def test_random_dags_respect_dependencies_and_release_each_intermediate_once(
    nodes: list[Node], seed: int
) -> None:
    rng = random.Random(seed)
    producer = {n.outputs[0]: n for n in nodes}
    parents = {n: {producer[i] for i in n.inputs if i in producer} for n in nodes}
    p = Pipeline(nodes)
    keep = p.inputs() | p.outputs()
    scheduler = Scheduler(p.graph, keep=keep)
    finished: set[Node] = set()
    running: list[Node] = []
    released: list[str] = []
    while scheduler.is_active():
        for ready in scheduler.get_ready():
            assert parents[ready] <= finished, f"{ready} handed out before its producers finished"
            running.append(ready)
        done = running.pop(rng.randrange(len(running)))
        for name in scheduler.done(done):
            consumers = [n for n in nodes if name in n.inputs]
            assert all(c in finished or c == done for c in consumers)
            released.append(name)
        finished.add(done)
    assert finished == set(nodes)
    assert sorted(released) == sorted(p.datasets() - keep)


def test_limited_hand_out_keeps_the_smallest_index_first() -> None:
    scheduler, nodes = make(
        """
        a: x -> a_out
        b: x -> b_out
        c: a_out -> c_out
        d: x -> d_out
        """
    )
    # Topological order: a, b, d (first layer, by name), then c.
    assert scheduler.get_ready(1) == [nodes["a"]]
    scheduler.done(nodes["a"])
    assert scheduler.get_ready(1) == [nodes["b"]]
    scheduler.done(nodes["b"])
    assert scheduler.get_ready(0) == []
    assert scheduler.get_ready(5) == [nodes["d"], nodes["c"]]


def test_a_node_below_two_failures_is_withdrawn_once() -> None:
    scheduler, nodes = make(
        """
        left: x -> l
        right: x -> r
        both: l, r -> b
        after: b -> out
        other: x -> o
        """
    )
    assert [n.name for n in scheduler.get_ready()] == ["left", "other", "right"]
    assert [n.name for n in scheduler.failed(nodes["left"])] == ["both", "after"]
    assert scheduler.failed(nodes["right"]) == []
    assert scheduler.is_active()
    scheduler.done(nodes["other"])
    assert not scheduler.is_active()

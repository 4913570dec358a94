"""Property tests on random DAGs: the graph index agrees with a naive reading of the nodes.

The naive reference below rescans every node for every question (quadratic and obviously
right); the pipeline answers from its index. Random DAGs use transcoding, several outputs per
node, names unrelated to the order, and free inputs.
"""

from __future__ import annotations

from collections.abc import Iterable

from hypothesis import given, settings
from hypothesis import strategies as st

from ductwork.pipeline import Node, Pipeline, node
from ductwork.pipeline.transcoding import strip_transcoding
from tests.pipeline.funcs import fan_in


@st.composite
def dags(draw: st.DrawFn, prefix: str = "", reads_from: tuple[str, ...] = ()) -> Pipeline:
    """A random valid pipeline; node i reads only datasets of nodes before it (or free ones)."""
    size = draw(st.integers(min_value=1, max_value=14))
    names = draw(st.permutations([f"{prefix}n{i}" for i in range(size)]))
    transcoded = draw(st.sets(st.integers(0, size - 1)))
    free = [f"{prefix}free{k}" for k in range(3)] + list(reads_from)
    produced: list[str] = []
    nodes = []
    for i in range(size):
        outputs = [f"{prefix}d{i}_{k}" for k in range(draw(st.integers(0, 2)))]
        candidates = free + produced
        inputs = draw(st.lists(st.sampled_from(candidates), unique=True, max_size=3))
        if not inputs and not outputs:
            outputs = [f"{prefix}d{i}_0"]
        if i in transcoded:
            outputs = [f"{name}@w" for name in outputs]
        produced += [strip_transcoding(o) for o in outputs]
        inputs = [_format(name, produced, transcoded, prefix, draw) for name in inputs]
        tags = draw(st.sets(st.sampled_from(["t1", "t2", "t3"]), max_size=2))
        nodes.append(node(fan_in, inputs, outputs or None, name=names[i], tags=tags))
    return Pipeline(draw(st.permutations(nodes)))


def _format(
    name: str, produced: list[str], transcoded: set[int], prefix: str, draw: st.DrawFn
) -> str:
    # A dataset written with a format must be read with one too (possibly another format).
    if not name.startswith(f"{prefix}d"):
        return name
    writer = int(name.removeprefix(f"{prefix}d").split("_")[0])
    if writer in transcoded:
        return f"{name}@{draw(st.sampled_from(['w', 'r']))}"
    return name


# --- the naive reference -------------------------------------------------------------------------


def bases(names: Iterable[str]) -> set[str]:
    return {strip_transcoding(n) for n in names}


def naive_parents(p: Pipeline, child: Node) -> set[str]:
    wanted = bases(child.inputs)
    return {n.name for n in p.nodes if bases(n.outputs) & wanted}


def naive_closure(p: Pipeline, start: set[str], downstream: bool) -> set[str]:
    result = set(start)
    changed = True
    while changed:
        changed = False
        for candidate in p.nodes:
            parents = naive_parents(p, candidate)
            if downstream and candidate.name not in result and parents & result:
                result.add(candidate.name)
                changed = True
            if not downstream and candidate.name in result:
                new = parents - result
                result |= new
                changed = changed or bool(new)
    return result


def naive_users(p: Pipeline, dataset: str, side: str) -> set[str]:
    """Nodes with ``dataset`` among their ``side`` ("inputs"/"outputs"), transcoding rules."""
    exact = strip_transcoding(dataset) != dataset
    found = set()
    for candidate in p.nodes:
        used = getattr(candidate, side)
        if dataset in used if exact else strip_transcoding(dataset) in bases(used):
            found.add(candidate.name)
    return found


def names(p: Pipeline) -> set[str]:
    return {n.name for n in p.nodes}


# --- properties ----------------------------------------------------------------------------------


@given(dags())
def test_nodes_is_a_topological_order_in_name_sorted_layers(p: Pipeline) -> None:
    seen: set[str] = set()
    for current in p.nodes:
        assert naive_parents(p, current) <= seen
        seen.add(current.name)
    assert [n for layer in p.grouped_nodes for n in layer] == p.nodes
    depth: dict[str, int] = {}
    for index, layer in enumerate(p.grouped_nodes):
        assert [n.name for n in layer] == sorted(n.name for n in layer)
        for member in layer:
            parents = naive_parents(p, member)
            assert index == (1 + max(depth[q] for q in parents) if parents else 0)
            depth[member.name] = index


@given(dags())
def test_dependencies_and_free_datasets_agree_with_the_reference(p: Pipeline) -> None:
    deps = p.node_dependencies
    for current in p.nodes:
        assert {n.name for n in deps[current]} == naive_parents(p, current)
    all_inputs = {i for n in p.nodes for i in n.inputs}
    all_outputs = {o for n in p.nodes for o in n.outputs}
    assert p.inputs() == {i for i in all_inputs if strip_transcoding(i) not in bases(all_outputs)}
    assert p.outputs() == {o for o in all_outputs if strip_transcoding(o) not in bases(all_inputs)}
    assert p.datasets() == all_inputs | all_outputs


@given(dags(), st.data())
def test_node_slices_agree_with_the_reference(p: Pipeline, data: st.DataObject) -> None:
    chosen = data.draw(st.sets(st.sampled_from(sorted(names(p))), min_size=1, max_size=3))
    assert names(p.only_nodes(*chosen)) == chosen
    assert names(p.from_nodes(*chosen)) == naive_closure(p, chosen, downstream=True)
    assert names(p.to_nodes(*chosen)) == naive_closure(p, chosen, downstream=False)


@given(dags(), st.data())
def test_dataset_slices_agree_with_the_reference(p: Pipeline, data: st.DataObject) -> None:
    everything = sorted(p.datasets() | bases(p.datasets()))
    chosen = data.draw(st.sets(st.sampled_from(everything), min_size=1, max_size=3))
    readers = set().union(*(naive_users(p, d, "inputs") for d in chosen))
    writers = set().union(*(naive_users(p, d, "outputs") for d in chosen))
    assert names(p.only_nodes_with_inputs(*chosen)) == readers
    assert names(p.only_nodes_with_outputs(*chosen)) == writers
    assert names(p.from_inputs(*chosen)) == naive_closure(p, readers, downstream=True)
    assert names(p.to_outputs(*chosen)) == naive_closure(p, writers, downstream=False)


@given(dags(), st.data())
def test_filter_is_the_intersection_of_its_filters(p: Pipeline, data: st.DataObject) -> None:
    some = st.sets(st.sampled_from(sorted(names(p))), min_size=1, max_size=2)
    start, end = data.draw(some), data.draw(some)
    tags = data.draw(st.sets(st.sampled_from(["t1", "t2", "t3"]), min_size=1))
    expected = names(p.from_nodes(*start)) & names(p.to_nodes(*end))
    expected &= names(p.only_nodes_with_tags(*tags))
    if expected:
        assert names(p.filter(tags=tags, from_nodes=start, to_nodes=end)) == expected


@given(dags(prefix="a_"), st.data())
@settings(max_examples=50)
def test_adding_then_removing_a_pipeline_keeps_the_first(a: Pipeline, data: st.DataObject) -> None:
    # b may read a's datasets but has its own names and outputs, so a + b is always valid.
    b = data.draw(dags(prefix="b_", reads_from=tuple(sorted(a.all_outputs()))))
    assert (a + b - b).nodes == a.nodes
    assert ((a + b) & a).nodes == a.nodes
    assert names(a | b) == names(a) | names(b)
    total = sum([a, b])
    assert isinstance(total, Pipeline)
    assert total.nodes == (a + b).nodes


@given(dags(), st.data())
def test_slices_are_topologically_ordered_too(p: Pipeline, data: st.DataObject) -> None:
    chosen = data.draw(st.sampled_from(sorted(names(p))))
    for piece in (p.from_nodes(chosen), p.to_nodes(chosen)):
        seen: set[str] = set()
        for current in piece.nodes:
            assert naive_parents(piece, current) <= seen
            seen.add(current.name)

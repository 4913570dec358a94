"""How nodes travel to ParallelRunner's workers: each function once per worker, each node once.

A function many nodes call (a lambda, a closure, a function of ``__main__``: those go by value)
travels to a worker once, with the first of its nodes sent there; the nodes share it there, as
they share it in the parent.
"""

from __future__ import annotations

import multiprocessing
import pickle
import threading
from typing import Any

import pytest

from ductwork.exceptions import NodesFailedError
from ductwork.io import DataCatalog, MemoryDataset
from ductwork.pipeline import Pipeline, Retry, node
from ductwork.runner import ParallelRunner
from ductwork.runner.processes.nodes import NodeLoader, PickledNodes

pytestmark = pytest.mark.timeout(120)


def counter() -> Any:
    """A closure (it travels by value) that counts its calls in the process it runs in."""
    calls: list[int] = []

    def count(*_inputs: Any) -> int:
        calls.append(1)
        return len(calls)

    return count


def test_a_function_of_many_nodes_is_pickled_once_and_sent_once_per_worker() -> None:
    shared = counter()
    retry = Retry(attempts=2, backoff=0.0)
    nodes = [node(shared, None, f"out{i}", name=f"n{i}", retry=retry) for i in range(5)]
    nodes.append(node(lambda: 0, None, "other", name="other"))
    offenders: dict[str, list[str]] = {}
    pickled = PickledNodes(nodes, offenders)
    assert offenders == {}
    assert len(pickled.shared) == 4  # the counter, its retry policy, the lambda, no policy
    sent: set[int] = set()
    parts = [pickled.task_parts(n, sent) for n in nodes]
    first = parts[0][1]
    assert first is not None
    assert len(first) == 2
    assert [new for _, new in parts[1:5]] == [None] * 4
    assert parts[5][1] is not None
    assert len(parts[5][1]) == 2
    # Another worker is sent them again, with the first node that needs them.
    assert pickled.task_parts(nodes[3], set())[1] == first
    # A worker rebuilds them once; every node it is sent calls that one function.
    loader = NodeLoader()
    loader.add(first)
    loaded = [loader.load(data) for data, _ in parts[:5]]
    assert [n.name for n in loaded] == [f"n{i}" for i in range(5)]
    assert len({id(n.func) for n in loaded}) == 1
    assert [n.func() for n in loaded] == [1, 2, 3, 4, 5]
    assert loaded[0] == nodes[0]
    assert hash(loaded[0]) == hash(nodes[0])
    assert loaded[0].retry == retry


def test_a_function_that_cannot_travel_is_named_before_any_worker_starts() -> None:
    lock = threading.Lock()  # cannot be pickled
    nodes = [node(lambda: lock, None, f"o{i}", name=f"locked{i}") for i in range(2)]
    offenders: dict[str, list[str]] = {}
    PickledNodes([*nodes, node(_identity, "x", "y", name="fine")], offenders)
    assert sorted(offenders) == ["node 'locked0'", "node 'locked1'"]
    assert all(reason.startswith("its function: ") for r in offenders.values() for reason in r)


def test_nodes_calling_one_function_share_it_in_a_worker_as_in_the_parent() -> None:
    shared = counter()
    nodes = [node(shared, None if i == 0 else f"c{i}", f"c{i + 1}", name=f"n{i}") for i in range(6)]
    result = ParallelRunner(max_workers=1).run(Pipeline(nodes), DataCatalog())
    assert result["c6"].load() == 6  # one function in the worker: six calls counted


def test_many_nodes_of_one_lambda_on_two_workers() -> None:
    double = lambda x: 2 * x  # noqa: E731  # by value, as a lambda must
    fan = [node(double, "x", f"y{i}", name=f"d{i}") for i in range(40)]
    catalog = DataCatalog({"x": MemoryDataset(21)})
    result = ParallelRunner(max_workers=2).run(Pipeline(fan), catalog)
    assert {result[f"y{i}"].load() for i in range(40)} == {42}


def _refuse_to_load() -> Any:
    if multiprocessing.parent_process() is not None:  # a worker
        raise ImportError("this function cannot be rebuilt in a worker")
    return _identity


def _identity(value: Any) -> Any:
    return value


class BuiltOnlyInTheParent:
    """A callable whose pickle rebuilds it only in the process that made it."""

    def __call__(self, value: Any) -> Any:
        return value

    def __reduce__(self) -> tuple[Any, tuple[()]]:
        return (_refuse_to_load, ())


def test_a_function_that_cannot_be_rebuilt_fails_each_node_that_calls_it() -> None:
    assert pickle.loads(pickle.dumps(BuiltOnlyInTheParent()))(3) == 3  # fine in the parent
    callable_ = BuiltOnlyInTheParent()
    nodes = [
        node(callable_, "x", "a", name="first"),
        node(_identity, "x", "b", name="fine"),
        node(callable_, "x", "c", name="second"),
    ]
    runner = ParallelRunner(max_workers=1, keep_going=True)
    with pytest.raises(NodesFailedError) as info:
        runner.run(Pipeline(nodes), DataCatalog({"x": MemoryDataset(1)}))
    failures = dict(info.value.failures)
    assert sorted(failures) == ["first", "second"]
    for error in failures.values():
        assert isinstance(error, ImportError)
        assert "cannot be rebuilt in a worker" in str(error)

"""How nodes travel to ParallelRunner's workers: in one table, each function once per worker.

A function many nodes call (a lambda, a closure, a function of ``__main__``: those go by value)
is pickled once and rebuilt once in a worker; the nodes share it there, as they share it in the
parent.
"""

from __future__ import annotations

import multiprocessing
import pickle
import threading
from typing import Any

import pytest

from ductwork.exceptions import NodesFailedError
from ductwork.io import DataCatalog, MemoryDataset
from ductwork.pipeline import Node, Pipeline, Retry, node
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
    # Node, the counter, its retry policy, no policy, the lambda: once each.
    assert len(pickled.shared) == 5
    assert [pickled.index[n] for n in nodes] == list(range(6))
    # A worker receives the table once (one message, pickled as the parent sends it), and
    # rebuilds each shared part once: every node it is sent calls that one function.
    table = pickle.loads(pickle.dumps(pickled.table(), protocol=5))
    loader = NodeLoader(table)
    loaded = [loader.load(pickled.index[n]) for n in nodes[:5]]
    assert [n.name for n in loaded] == [f"n{i}" for i in range(5)]
    assert len({id(n.func) for n in loaded}) == 1
    assert [n.func() for n in loaded] == [1, 2, 3, 4, 5]
    assert loaded[0].retry == retry
    assert loader.load(5).func() == 0


def test_a_node_rebuilt_in_a_worker_is_the_node_the_standard_pickle_rebuilds() -> None:
    # Every slot, as Node.__setstate__ sets it (the loader sets a plain node's slots itself).
    retry = Retry(attempts=3, backoff=0.0)
    nodes = [
        node(_identity, "x", "y", name="plain"),
        node(_identity, {"value": "x"}, ["a", "b"], name="n", namespace="space", tags=["t"]),
        node(_identity, "x", None, confirms="x", retry=retry, timeout=2.5),
    ]
    pickled = PickledNodes(nodes, {})
    loader = NodeLoader(pickle.loads(pickle.dumps(pickled.table())))
    for original in nodes:
        rebuilt = loader.load(pickled.index[original])
        standard = pickle.loads(pickle.dumps(original))
        assert rebuilt == original
        assert hash(rebuilt) == hash(original)
        for field in type(original).__slots__:
            if field != "__weakref__":
                assert getattr(rebuilt, field) == getattr(standard, field), field


class _TaggedNode(Node):
    """A subclass of Node: its own state travels as its __getstate__ gives it."""

    def __getstate__(self) -> dict[str, Any]:
        return {**super().__getstate__(), "_name": "tagged"}


def test_a_subclass_of_node_travels_with_its_own_state() -> None:
    subclass = _TaggedNode(_identity, "x", "y", name="sub")
    pickled = PickledNodes([subclass], {})
    rebuilt = NodeLoader(pickle.loads(pickle.dumps(pickled.table()))).load(0)
    assert type(rebuilt) is _TaggedNode
    assert rebuilt.name == "tagged"
    assert rebuilt.func is _identity


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

"""How nodes are handed out: Dask sees the graph ahead of time; nodes pickle cheaply."""

from __future__ import annotations

import itertools
import pickle
import threading
import time
from pathlib import Path
from typing import Any

import cloudpickle
import pytest

pytest.importorskip("distributed")

from distributed import Client

from ductwork.datasets import PickleDataset
from ductwork.exceptions import NotPicklableError
from ductwork.execution import NodeOutcome
from ductwork.io import DataCatalog
from ductwork.pipeline import Node, Pipeline, node
from ductwork.runner import DaskRunner, RunObserver
from ductwork.runner.validation import check_travel, pickle_by_name_or_value
from tests.runner.conftest import SessionDaskCluster
from tests.runner.helpers import identity


@pytest.fixture
def client(session_dask_cluster: SessionDaskCluster) -> Client:
    """The session's client (its cluster has two worker processes)."""
    session_client: Client = session_dask_cluster.client()
    return session_client


def known_nodes(client: Client) -> set[str]:
    """The ductwork nodes the scheduler has tasks for."""

    def names(dask_scheduler: Any) -> list[str]:
        return [
            str(key[0]).removeprefix("node:")
            for key in dask_scheduler.tasks
            if isinstance(key, tuple) and str(key[0]).startswith("node:")
        ]

    return set(client.run_on_scheduler(names))


class WaitsForTheChain(RunObserver):
    """When the first node is handed out, waits until the scheduler knows every node.

    The run loop waits for its observer: if the executor handed Dask only the nodes the loop gave
    it, the rest would never arrive while this waits, and the check would time out.
    """

    def __init__(self, client: Client, names: set[str]) -> None:
        self.client = client
        self.names = names
        self.outcomes: list[NodeOutcome] = []

    def node_started(self, node: Node) -> None:
        if not self.outcomes and node.name == "n0":
            deadline = time.monotonic() + 30
            while not self.names <= known_nodes(self.client):
                assert time.monotonic() < deadline, "the chain never reached the scheduler"
                time.sleep(0.05)

    def node_finished(self, outcome: NodeOutcome) -> None:
        self.outcomes.append(outcome)


def test_dask_receives_the_chain_before_its_first_node_is_handed_out(client: Client) -> None:
    pipeline = Pipeline([node(identity, f"d{i}", f"d{i + 1}", name=f"n{i}") for i in range(4)])
    observer = WaitsForTheChain(client, {"n0", "n1", "n2", "n3"})
    result = DaskRunner(client=client).run(pipeline, DataCatalog({"d0": 5}), observer=observer)
    assert result["d4"].load() == 5
    # Each outcome says when and where the node ran, on a worker of the cluster.
    workers = set(client.scheduler_info()["workers"])
    outcomes = observer.outcomes
    assert [o.node.name for o in outcomes] == ["n0", "n1", "n2", "n3"]
    assert {o.worker for o in outcomes} <= workers
    assert all(o.started <= o.finished for o in outcomes)
    assert all(a.finished <= b.started for a, b in itertools.pairwise(outcomes))


class Order(RunObserver):
    def __init__(self) -> None:
        self.finished: list[str] = []

    def node_finished(self, outcome: NodeOutcome) -> None:
        self.finished.append(outcome.node.name)


def test_a_node_reading_a_persisted_dataset_waits_for_its_writer(
    client: Client, tmp_path: Path
) -> None:
    pipeline = Pipeline(
        [
            node(identity, "x", "saved", name="write"),
            node(identity, "saved", "y", name="read"),
            node(identity, "y", "z", name="after"),
        ]
    )
    catalog = DataCatalog({"x": 3, "saved": PickleDataset(filepath=str(tmp_path / "s.pkl"))})
    observer = Order()
    # Dask cannot see that "read" needs "write" (no future links them): "read", and what follows
    # it, are submitted once "write" has finished, and read what it saved.
    result = DaskRunner(client=client).run(pipeline, catalog, observer=observer)
    assert result["z"].load() == 3
    assert observer.finished == ["write", "read", "after"]


def module_level(x: Any) -> Any:
    return x


def test_a_node_of_an_importable_function_pickles_by_name() -> None:
    made = node(module_level, "a", "b", name="plain")
    assert pickle_by_name_or_value(made) == pickle.dumps(made, protocol=5)
    assert pickle.loads(pickle_by_name_or_value(made)).func is module_level


def test_a_lambda_node_travels_by_value() -> None:
    made = node(lambda x: x + 1, "a", "b", name="anonymous")
    loaded = cloudpickle.loads(pickle_by_name_or_value(made))
    assert loaded.func(1) == 2


class CountedPickling:
    """A callable that counts how often it is pickled."""

    pickled = 0

    def __call__(self, x: Any) -> Any:
        return x

    def __reduce__(self) -> tuple[type, tuple[()]]:
        CountedPickling.pickled += 1
        return (CountedPickling, ())


def test_a_function_many_nodes_share_is_checked_for_travel_once() -> None:
    shared = CountedPickling()
    nodes = [node(shared, f"x{i}", f"y{i}", name=f"n{i}") for i in range(50)]
    CountedPickling.pickled = 0
    check_travel(nodes, {}, (), (), "the workers")
    assert CountedPickling.pickled == 1


def test_every_node_of_a_function_that_cannot_travel_is_named_with_why() -> None:
    lock = threading.Lock()

    def holds_a_lock(x: Any) -> Any:
        with lock:
            return x

    nodes = [node(holds_a_lock, f"x{i}", f"y{i}", name=f"n{i}") for i in range(3)]
    nodes.append(node(identity, "a", "b", name="fine"))
    with pytest.raises(NotPicklableError) as info:
        check_travel(nodes, {}, (), (), "the workers")
    assert set(info.value.offenders) == {"node 'n0'", "node 'n1'", "node 'n2'"}
    assert all(
        reasons and reasons[0].startswith("its function: ") and "lock" in reasons[0]
        for reasons in info.value.offenders.values()
    )

"""The run loop's gate (``RunObserver.gate``), where incremental runs decide each node as it
becomes ready: a skipped node is reported with a ``skipped`` outcome and never reaches a
worker; a node the gate asks to wait is asked again, and decided once nothing else runs."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from ductwork.datasets import JSONDataset
from ductwork.execution import NodeOutcome
from ductwork.io import DataCatalog, MemoryDataset
from ductwork.pipeline import Node, Pipeline, node
from ductwork.runner import RunObserver
from tests.runner.conftest import RUNNERS, MakeRunner


def double(x: int) -> int:
    return 2 * x


class Recorder(RunObserver):
    """Skips the nodes named in ``skip``; waits (None) on ``wait`` while it may."""

    def __init__(
        self, skip: frozenset[str] = frozenset(), wait: frozenset[str] = frozenset()
    ) -> None:
        self.skip, self.wait = skip, wait
        self.asked: list[tuple[str, bool]] = []
        self.started: list[str] = []
        self.outcomes: dict[str, NodeOutcome] = {}
        self._lock = threading.Lock()

    def gate(self, node: Node, can_wait: bool) -> bool | None:
        self.asked.append((node.name, can_wait))
        if node.name in self.wait and can_wait:
            return None
        return node.name in self.skip

    def node_started(self, node: Node) -> None:
        with self._lock:
            self.started.append(node.name)

    def node_finished(self, outcome: NodeOutcome) -> None:
        with self._lock:
            self.outcomes[outcome.node.name] = outcome


CHAIN = Pipeline(
    [
        node(double, "x", "y", name="a"),
        node(double, "y", "z", name="b"),
        node(double, "z", "w", name="c"),
    ]
)


@pytest.mark.parametrize("runner_name", list(RUNNERS))
def test_a_skipped_node_is_reported_and_its_readers_use_what_exists(
    runner_name: str, tmp_path: Path
) -> None:
    make_runner: MakeRunner = RUNNERS[runner_name]
    # z exists already (a kept output): skipping b leaves it to c.
    z = JSONDataset(filepath=str(tmp_path / "z.json"))
    z.save(100)
    catalog = DataCatalog({"x": MemoryDataset(1), "z": z})
    observer = Recorder(skip=frozenset({"b"}))
    result = make_runner().run(CHAIN, catalog, observer=observer)
    assert result["w"].load() == 200
    assert observer.outcomes["b"].skipped
    assert observer.outcomes["b"].error is None
    assert not observer.outcomes["a"].skipped
    assert not observer.outcomes["c"].skipped
    assert "b" not in observer.started
    assert [name for name, _ in observer.asked] == ["a", "b", "c"]


@pytest.mark.parametrize("runner_name", ["sequential", "thread"])
def test_a_waiting_node_is_asked_again_and_decided_when_nothing_else_runs(
    runner_name: str,
) -> None:
    make_runner: MakeRunner = RUNNERS[runner_name]
    pipeline = Pipeline(
        [node(double, "x", "y", name="alone"), node(double, "x", "v", name="other")]
    )
    catalog = DataCatalog({"x": MemoryDataset(3)})
    observer = Recorder(wait=frozenset({"alone", "other"}))
    result = make_runner().run(pipeline, catalog, observer=observer)
    assert result["y"].load() == 6
    assert result["v"].load() == 6
    # Asked while it could wait, then once more when it could not: never stuck.
    assert observer.asked[-1][1] is False
    assert {name for name, can_wait in observer.asked if not can_wait} <= {"alone", "other"}
    assert set(observer.started) == {"alone", "other"}


def test_a_node_waiting_on_a_running_one_is_asked_after_it_finished() -> None:
    pipeline = Pipeline(
        [node(double, "x", "y", name="a_patient"), node(double, "x", "v", name="b_busy")]
    )
    observer = Recorder(wait=frozenset({"a_patient"}))
    RUNNERS["sequential"]().run(pipeline, DataCatalog({"x": MemoryDataset(1)}), observer=observer)
    patient = [can_wait for name, can_wait in observer.asked if name == "a_patient"]
    assert patient == [True, False]
    assert observer.started == ["b_busy", "a_patient"]

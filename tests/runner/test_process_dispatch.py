"""How ParallelRunner hands out nodes: only what the run loop hands out runs, and the machinery
that sends a chain's next links ahead (switched off while observers cannot see them) keeps its
promises: a node sent ahead runs only if the nodes before it succeeded, transcoding included.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from ductwork.datasets import PickleDataset
from ductwork.exceptions import NodesFailedError
from ductwork.execution import NodeOutcome
from ductwork.hooks import create_hook_manager
from ductwork.io import DataCatalog, MemoryDataset
from ductwork.pipeline import Pipeline, node
from ductwork.runner import ParallelRunner, RunObserver
from ductwork.runner.processes.ahead import Ahead
from tests.runner.helpers import CustomNodeError, EventLog, fail, identity, read_events

pytestmark = pytest.mark.timeout(120)


def mark_and_pass(marker: str, value: Any) -> Any:
    """Leave ``marker`` behind (the node ran), and pass ``value`` on."""
    Path(marker).touch()
    return value


def pid_of(_value: Any) -> int:
    return os.getpid()


class SeesEachStart(RunObserver):
    """Records, when a node finishes, whether the node after it has run already."""

    def __init__(self, first: str, marker: Path) -> None:
        self.first, self.marker = first, marker
        self.outcomes: list[NodeOutcome] = []
        self.ran_before_handed_out = False

    def node_finished(self, outcome: NodeOutcome) -> None:
        self.outcomes.append(outcome)
        if outcome.node.name == self.first:
            self.ran_before_handed_out = self.marker.exists()


def test_a_node_runs_only_after_the_loop_hands_it_out(tmp_path: Path) -> None:
    # Observers (the run journal) must know of every node that ran: after a Ctrl-C the journal
    # says what was interrupted and what never started.
    marker = tmp_path / "second_ran"
    pipeline = Pipeline(
        [
            node(identity, "x", "a", name="first"),
            node(lambda a: mark_and_pass(str(marker), a + 1), "a", "b", name="second"),
            node(identity, "b", "c", name="third"),
        ]
    )
    observer = SeesEachStart("first", marker)
    catalog = DataCatalog({"x": MemoryDataset(1)})
    result = ParallelRunner(max_workers=2).run(pipeline, catalog, observer=observer)
    assert result["c"].load() == 2
    assert [o.node.name for o in observer.outcomes] == ["first", "second", "third"]
    assert not observer.ran_before_handed_out


@pytest.mark.parametrize("keep_going", [False, True])
def test_a_node_sent_ahead_does_not_run_when_the_node_before_it_fails(
    tmp_path: Path, keep_going: bool
) -> None:
    marker, log = tmp_path / "after_ran", tmp_path / "events.jsonl"
    stale = PickleDataset(filepath=str(tmp_path / "mid.pkl"))
    stale.save("from an earlier run")  # what the follower would read if it ran anyway
    pipeline = Pipeline(
        [
            node(identity, "x", "a", name="start"),
            node(fail, "a", "mid", name="fails"),
            node(lambda mid: mark_and_pass(str(marker), mid), "mid", "out", name="after"),
        ]
    )
    catalog = DataCatalog({"x": MemoryDataset(1), "mid": stale})
    runner = ParallelRunner(max_workers=2, keep_going=keep_going)
    with pytest.raises((CustomNodeError, NodesFailedError)) as info:
        runner.run(pipeline, catalog, create_hook_manager(EventLog(log)))
    if keep_going:
        assert isinstance(info.value, NodesFailedError)
        assert [name for name, _ in info.value.failures] == ["fails"]
    else:
        assert isinstance(info.value, CustomNodeError)
    assert not marker.exists()
    assert {e.get("node") for e in read_events(log)} - {None} == {"start", "fails"}


def test_a_chain_of_persisted_and_memory_data_on_one_worker(tmp_path: Path) -> None:
    pipeline = Pipeline(
        [node(identity, "x", "d0", name="n0")]
        + [node(lambda v: v + 1, f"d{i}", f"d{i + 1}", name=f"n{i + 1}") for i in range(40)]
        + [node(pid_of, "d40", "pid", name="last")]
    )
    files = {f"d{i}": PickleDataset(filepath=str(tmp_path / f"d{i}.pkl")) for i in range(0, 41, 5)}
    catalog = DataCatalog({"x": MemoryDataset(0), **files})
    result = ParallelRunner(max_workers=2).run(pipeline, catalog)
    assert catalog.load("d40") == 40
    assert isinstance(result["pid"].load(), int)


def test_a_node_reading_a_transcoded_dataset_waits_for_its_writer() -> None:
    writer = node(identity, "x", "data@pandas", name="writer")
    quick = node(identity, "x", "q", name="quick")
    reader = node(lambda data, q: q, ["data@frame", "q"], "out", name="reader")
    ahead = Ahead(Pipeline([writer, quick, reader]), enabled=True)
    assert list(ahead.followers(quick, {quick})) == []  # the writer may run elsewhere
    assert list(ahead.followers(quick, {quick, writer})) == [(reader, [quick, writer])]
    ahead.succeeded(writer)
    assert list(ahead.followers(quick, {quick})) == [(reader, [quick])]

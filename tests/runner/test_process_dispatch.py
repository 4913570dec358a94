"""How ParallelRunner hands out nodes: a chain goes on a worker without the parent's round trip.

A node whose only unfinished producers are queued on one worker is sent there ahead of the run
loop; the worker runs it right after them, reading their outputs from its own memory, and runs
it only if they succeeded there. If the loop stops first (Ctrl-C), observers are still told
what ran and what runs: the run journal must not call a node that ran "not run".
"""

from __future__ import annotations

import logging
import os
import signal
import time
from functools import partial
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any

import pytest

from ductwork.datasets import PickleDataset
from ductwork.exceptions import NodesFailedError, WorkerLostError
from ductwork.execution import NodeOutcome
from ductwork.hooks import create_hook_manager
from ductwork.io import DataCatalog, MemoryDataset
from ductwork.pipeline import Node, Pipeline, node
from ductwork.runner import ParallelRunner, RunObserver
from ductwork.runner.processes.ahead import Ahead
from ductwork.runner.processes.executor import ProcessExecutor
from tests.runner.helpers import CustomNodeError, EventLog, fail, identity, read_events
from tests.runner.helpers import wait_for_file as wait_for
from tests.runner.process_helpers import report_and_block

pytestmark = pytest.mark.timeout(120)


def mark_and_pass(marker: str, value: Any) -> Any:
    """Leave ``marker`` behind (the node ran), and pass ``value`` on."""
    Path(marker).touch()
    return value


def pid_of(_value: Any) -> int:
    return os.getpid()


class WaitsInTheLoop(RunObserver):
    """Holds up the run loop when ``first`` finishes, until ``marker`` exists.

    The loop waits for its observer, so a node the loop has not handed out yet runs meanwhile
    only if the executor sent it ahead; otherwise the wait times out.
    """

    def __init__(self, first: str, marker: Path) -> None:
        self.first, self.marker = first, marker
        self.outcomes: list[NodeOutcome] = []

    def node_finished(self, outcome: NodeOutcome) -> None:
        self.outcomes.append(outcome)
        if outcome.node.name == self.first:
            wait_for(self.marker, timeout=30)


def test_the_next_link_of_a_chain_runs_before_the_loop_hands_it_out(tmp_path: Path) -> None:
    marker = tmp_path / "second_ran"
    pipeline = Pipeline(
        [
            node(identity, "x", "a", name="first"),
            node(lambda a: mark_and_pass(str(marker), a + 1), "a", "b", name="second"),
            node(identity, "b", "c", name="third"),
        ]
    )
    observer = WaitsInTheLoop("first", marker)
    catalog = DataCatalog({"x": MemoryDataset(1)})
    result = ParallelRunner(max_workers=2).run(pipeline, catalog, observer=observer)
    assert result["c"].load() == 2
    assert [o.node.name for o in observer.outcomes] == ["first", "second", "third"]
    assert len({o.worker for o in observer.outcomes}) == 1  # one worker ran the chain


_GATE_LOGGER = "tests.runner.process_dispatch"


def say_and_pass(value: Any) -> Any:
    logging.getLogger(_GATE_LOGGER).warning("make finished")
    return value


def mark_and_wait(marker: str, value: Any) -> Any:
    """Say it runs (``marker``), then wait until its worker is stopped."""
    Path(marker).touch()
    wait_for(Path(marker + ".never"), timeout=60)
    return value


class CtrlCWhenMarked(logging.Handler):
    """In the parent, on the record ``make`` logs just before it returns: waits until
    ``marker`` says the next node runs, then raises ``KeyboardInterrupt``, as Ctrl-C would.

    ``make``'s outcome is then in its worker's pipe, not yet read by the run loop.
    """

    def __init__(self, marker: Path) -> None:
        super().__init__()
        self.marker = marker

    def emit(self, record: logging.LogRecord) -> None:
        wait_for(self.marker, timeout=30)
        raise KeyboardInterrupt


class Records(RunObserver):
    def __init__(self) -> None:
        self.said: list[tuple[str, str]] = []

    def node_started(self, node: Node) -> None:
        self.said.append(("started", node.name))

    def node_finished(self, outcome: NodeOutcome) -> None:
        self.said.append(("failed" if outcome.error else "finished", outcome.node.name))


def test_after_ctrl_c_observers_know_what_ran_and_what_runs(tmp_path: Path) -> None:
    # Without the drain after Ctrl-C, the observer heard only "make started": the journal called
    # make "interrupted" and gate, which was running, "not run".
    marker = tmp_path / "gate_runs"
    pipeline = Pipeline(
        [
            node(say_and_pass, "x", "a", name="make"),
            node(lambda a: mark_and_wait(str(marker), a), "a", "b", name="gate"),
            node(identity, "b", "c", name="finish"),
        ]
    )
    logger = logging.getLogger(_GATE_LOGGER)
    handler = CtrlCWhenMarked(marker)
    logger.addHandler(handler)
    observer = Records()
    try:
        with pytest.raises(KeyboardInterrupt):
            ParallelRunner(max_workers=2).run(
                pipeline, DataCatalog({"x": MemoryDataset(1)}), observer=observer
            )
    finally:
        logger.removeHandler(handler)
    assert observer.said == [("started", "make"), ("finished", "make"), ("started", "gate")]


def test_nodes_sent_ahead_are_told_unless_a_failure_kept_them_from_running() -> None:
    a, b, c = (node(identity, f"d{i}", f"d{i + 1}", name=f"n{i}") for i in range(3))
    ahead = Ahead(Pipeline([a, b, c]), enabled=True)
    ahead.sent.update([b, c])
    done = NodeOutcome(a, None, 0.0, 1.0, "w")
    ahead.succeeded(a)
    ahead.sent.discard(b)
    ahead.early[b] = done._replace(node=b)  # b ran ahead: c runs now
    ahead.succeeded(b)
    assert ahead.untold([done], [c]) == ({b, c}, [done, done._replace(node=b)])
    ahead = Ahead(Pipeline([a, b, c]), enabled=True)
    ahead.sent.update([b, c])
    failed = done._replace(error=CustomNodeError("a failed"))
    # b, first on its worker now, never starts
    assert ahead.untold([failed], [b]) == (set(), [failed])


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


def meet(folder: str, name: str, others: int, value: Any) -> Any:
    """Leave a file ``name`` in ``folder``, then wait until ``others`` more are there: a node that
    no other node runs beside meets nobody, and fails after 30 s."""
    Path(folder, name).touch()
    deadline = time.monotonic() + 30
    while len(os.listdir(folder)) <= others:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{name} met no other node running beside it")
        time.sleep(0.01)  # polling the folder the others write to, not timing them
    return value


def test_a_fan_out_after_a_quick_chain_spreads_over_the_workers(tmp_path: Path) -> None:
    # The first links are quick: the workers then hold up to 16 nodes each. All four followers
    # of "source" wait only for it: all sent ahead to its worker, they would queue there behind
    # one another, and none would meet another.
    folder = tmp_path / "met"
    folder.mkdir()
    fan = [
        node(partial(meet, str(folder), f"f{i}", 1), "s", f"o{i}", name=f"f{i}") for i in range(4)
    ]
    pipeline = Pipeline(
        [
            node(identity, "x", "q0", name="quick0"),
            node(identity, "q0", "q1", name="quick1"),
            node(identity, "q1", "s", name="source"),
            *fan,
        ]
    )
    result = ParallelRunner(max_workers=2).run(pipeline, DataCatalog({"x": MemoryDataset(3)}))
    assert [result[f"o{i}"].load() for i in range(4)] == [3] * 4


def test_a_worker_killed_running_a_node_sent_ahead_fails_the_run_naming_that_node(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On a busy host the parent may hear at once that "produce" ended and that its worker died
    # running "victim", which the loop had not handed out yet (it was sent ahead). It then
    # forgot "victim" and ran it again on a new worker, as if it had never begun: here the second
    # run waits forever to write to the fifo nobody reads (the test times out). Made certain by
    # holding the parent up after its first send until the worker is dead.
    fifo = tmp_path / "ready"
    os.mkfifo(fifo)
    send = ProcessExecutor._send_outbox
    killed: list[int] = []

    def send_then_wait_for_the_kill(self: ProcessExecutor) -> None:
        sending = any(self._outbox.values())
        send(self)
        if sending and not killed:
            with open(fifo) as stream:
                pid = int(stream.readline())
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
            [worker] = [w for w in self._pool.workers if w.process.pid == pid]
            assert wait([worker.process.sentinel], timeout=30)

    monkeypatch.setattr(ProcessExecutor, "_send_outbox", send_then_wait_for_the_kill)
    pipeline = Pipeline(
        [
            node(identity, "n", "a", name="produce"),
            node(report_and_block, ["a", "params:fifo"], "out", name="victim"),
        ]
    )
    catalog = DataCatalog({"n": MemoryDataset(1), "params:fifo": MemoryDataset(str(fifo))})
    observer = Records()
    with pytest.raises(WorkerLostError) as info:
        ParallelRunner(max_workers=1).run(pipeline, catalog, observer=observer)
    assert len(killed) == 1
    assert info.value.node_name == "victim"
    assert "SIGKILL" in str(info.value)
    said = [("started", "produce"), ("finished", "produce"), ("started", "victim")]
    assert observer.said == [*said, ("failed", "victim")]

"""Time limits, lost workers and keep-going where nodes run in worker processes."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from ductwork.datasets import PickleDataset
from ductwork.exceptions import NodesFailedError, NodeTimeoutError, WorkerLostError
from ductwork.io import DataCatalog, MemoryDataset
from ductwork.pipeline import Pipeline, node
from ductwork.runner import ParallelRunner
from tests.runner.helpers import double, hang_until, identity, wait_for_file
from tests.runner.process_helpers import array, descendants, live_workers, segments

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(autouse=True)
def before() -> set[int]:
    """Processes that were there before the test (the session's Dask cluster, say)."""
    return descendants()


def started_pids(path: Path, timeout: float = 30.0) -> list[int]:
    """The pids a node wrote to ``path``, once a first line is there: the file is created a
    moment before its line is written (seen: an empty list after ``wait_for_file``)."""
    deadline = time.monotonic() + timeout
    while not (text := path.read_text()).endswith("\n"):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} had no whole line within {timeout} s")
        time.sleep(0.01)  # polling a file the node writes, not synchronising on time
    return [json.loads(line)["pid"] for line in text.splitlines()]


def test_timeout_stops_the_workers_process_and_leaves_no_segment(
    tmp_path: Path, before: set[int]
) -> None:
    started, release = tmp_path / "started", tmp_path / "release"
    pipeline = Pipeline(
        [
            node(array, "n", "big", name="make_array"),
            node(partial(hang_until, str(release), str(started)), "big", "y", name="hangs"),
        ]
    )
    with pytest.raises(
        NodeTimeoutError, match=r"'hangs'.*its worker process \(pid \d+\) was stopped"
    ):
        ParallelRunner(2, timeout=1.0).run(pipeline, DataCatalog({"n": MemoryDataset(200_000)}))
    (pid,) = started_pids(started)
    assert not [p for p in live_workers(ignore=before) if p.pid == pid]
    assert segments() == []


def test_a_replacement_worker_takes_over_after_a_timeout(tmp_path: Path, before: set[int]) -> None:
    started, release = tmp_path / "started", tmp_path / "release"
    hangs = node(
        partial(hang_until, str(release), str(started)), "x", "h", name="hangs", timeout=1.0
    )
    others = [node(double, "x", f"o{i}", name=f"other{i}") for i in range(6)]
    catalog = DataCatalog({"x": MemoryDataset(2)})
    with pytest.raises(NodesFailedError) as info:
        ParallelRunner(1, keep_going=True).run(Pipeline([hangs, *others]), catalog)
    assert [(name, type(error)) for name, error in info.value.failures] == [
        ("hangs", NodeTimeoutError)
    ]
    assert all(catalog.load(f"o{i}") == 4 for i in range(6))
    release.touch()
    assert live_workers(ignore=before) == []


def run_in_thread(
    runner: ParallelRunner, pipeline: Pipeline, catalog: DataCatalog
) -> dict[str, Any]:
    result: dict[str, Any] = {}

    def target() -> None:
        try:
            runner.run(pipeline, catalog)
        except BaseException as error:
            result["error"] = error

    thread = threading.Thread(target=target)
    thread.start()
    result["thread"] = thread
    return result


def test_keep_going_survives_a_worker_killed_mid_node(tmp_path: Path, before: set[int]) -> None:
    started, release = tmp_path / "started", tmp_path / "release"
    pipeline = Pipeline(
        [
            node(partial(hang_until, str(release), str(started)), "x", "lost", name="killed"),
            node(identity, "lost", "after_lost", name="after_killed"),
            node(double, "x", "fine", name="independent"),
        ]
    )
    catalog = DataCatalog(
        {"x": MemoryDataset(5), "fine": PickleDataset(filepath=str(tmp_path / "f.pkl"))}
    )
    running = run_in_thread(ParallelRunner(2, keep_going=True), pipeline, catalog)
    try:
        wait_for_file(started)
        os.kill(started_pids(started)[0], signal.SIGKILL)
        running["thread"].join(60)
    finally:
        release.touch()
    assert not running["thread"].is_alive()
    error = running["error"]
    assert isinstance(error, NodesFailedError)
    ((name, cause),) = error.failures
    assert name == "killed"
    assert isinstance(cause, WorkerLostError)
    assert "SIGKILL" in str(cause)
    assert catalog.load("fine") == 10
    assert live_workers(ignore=before) == []
    assert segments() == []

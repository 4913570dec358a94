"""What the journal measures where nodes run: load and save times, shapes, attempts, the pid.

Each test runs a real pipeline with a real runner, the journal as observer and its hook plugin
registered, as ``ductwork run`` does, and reads the journal.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from ductwork.hooks import create_hook_manager
from ductwork.io import DataCatalog
from ductwork.pipeline import Pipeline, Retry, node
from ductwork.report import RunJournal, render_html
from ductwork.report.measures import record_metrics, split_metrics
from ductwork.runner import ParallelRunner, SequentialRunner, ThreadRunner

pd = pytest.importorskip("pandas")
np = pytest.importorskip("numpy")

pytestmark = pytest.mark.timeout(180)


def to_array(frame: Any) -> Any:
    return frame[["engines", "price"]].to_numpy(dtype=float)


def total(array: Any) -> float:
    return float(array.sum())


def flaky(marker: str, value: float) -> float:
    """Fails the first time it runs (anywhere: the marker is a file), then succeeds."""
    if not os.path.exists(marker):
        Path(marker).write_text("failed once")
        raise ConnectionError("the first attempt fails")
    return value * 2


def _pipeline(marker: Path) -> Pipeline:
    return Pipeline(
        [
            node(to_array, "shuttles", "matrix", name="to_array"),
            node(total, "matrix", "sum", name="total"),
            node(
                partial(flaky, str(marker)),
                "sum",
                "doubled",
                name="flaky",
                retry=Retry(attempts=3, backoff=0.0),
            ),
        ]
    )


def _run(tmp_path: Path, runner: Any) -> dict[str, Any]:
    csv = tmp_path / "shuttles.csv"
    pd.DataFrame({"id": range(250), "engines": [2] * 250, "price": [1.5] * 250}).to_csv(
        csv, index=False
    )
    catalog = DataCatalog.from_config(
        {"shuttles": {"type": "pandas.CSVDataset", "filepath": str(csv)}}
    )
    pipeline = _pipeline(tmp_path / "marker")
    hooks = create_hook_manager()
    with RunJournal(tmp_path / "runs", pipeline, catalog=catalog) as journal:
        hooks.register(journal.hooks)
        runner.run(pipeline, catalog, hooks, observer=journal)
    return dict(journal.record)


@pytest.mark.parametrize("kind", ["sequential", "threads-async", "processes"])
def test_loads_saves_shapes_and_attempts_are_recorded(tmp_path: Path, kind: str) -> None:
    runners: dict[str, Callable[[], Any]] = {
        "sequential": SequentialRunner,
        "threads-async": lambda: ThreadRunner(max_workers=2, is_async=True),
        "processes": lambda: ParallelRunner(max_workers=2),
    }
    runner = runners[kind]()
    journal = _run(tmp_path, runner)
    assert journal["status"] == "success"
    datasets = journal["datasets"]
    # The CSV file read by the first node: its load time, and the frame's rows and columns.
    shuttles = datasets["shuttles"]
    assert shuttles["load_time"] > 0
    assert shuttles["loads"] == 1
    assert (shuttles["rows"], shuttles["columns"]) == (250, 3)
    # An array in memory: saved by one node, loaded by the next.
    matrix = datasets["matrix"]
    assert matrix["save_time"] > 0
    assert matrix["load_time"] > 0
    assert (matrix["rows"], matrix["columns"]) == (250, 2)
    assert matrix["memory"] == 250 * 2 * 8
    assert "rows" not in datasets["sum"]  # a float has no shape
    nodes = {entry["name"]: entry for entry in journal["nodes"]}
    assert nodes["flaky"]["attempts"] == 2
    assert "attempts" not in nodes["total"]
    assert nodes["to_array"]["load_time"] >= shuttles["load_time"] - 1e-6
    assert nodes["to_array"]["save_time"] > 0
    pids = {entry["pid"] for entry in nodes.values()}
    if kind == "processes":
        assert os.getpid() not in pids, "measured in the worker processes"
    else:
        assert pids == {os.getpid()}


def test_the_report_shows_what_was_measured(tmp_path: Path) -> None:
    journal = _run(tmp_path, SequentialRunner())
    page = render_html(journal)
    # The table's columns and the datasets' facts travel in the page's data.
    assert '"load_time"' in page
    assert '"memory":4000' in page
    assert '"attempts":2' in page


def test_metrics_are_split_by_dataset_and_summed_over_readers() -> None:
    own, per_dataset = split_metrics(
        {"cpu_seconds": 0.5, "load_seconds:params:x": 0.25, "rows:a": 3.0, "pid": 7.0}
    )
    assert own == {"cpu_seconds": 0.5, "pid": 7.0}
    assert per_dataset == {"params:x": {"load_seconds": 0.25}, "a": {"rows": 3.0}}
    datasets: dict[str, dict[str, Any]] = {}
    for _reader in range(2):
        record_metrics({}, datasets, {"load_seconds:a": 0.5})
    assert datasets == {"a": {"load_time": 1.0, "loads": 2}}

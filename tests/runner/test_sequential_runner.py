"""What is particular to SequentialRunner: the calling thread, the exact order, its log line."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

import pytest

from ductwork.hooks import create_hook_manager
from ductwork.io import DataCatalog, MemoryDataset
from ductwork.pipeline import Pipeline, node
from ductwork.runner import SequentialRunner, ThreadRunner
from tests.runner.helpers import EventLog, identity, read_events

pytestmark = pytest.mark.timeout(60)


def test_nodes_run_on_the_calling_thread() -> None:
    seen: list[threading.Thread] = []

    def where(x: Any) -> Any:
        seen.append(threading.current_thread())
        return x

    pipeline = Pipeline([node(where, "x", "y", name="one"), node(where, "y", "z", name="two")])
    SequentialRunner().run(pipeline, DataCatalog({"x": MemoryDataset(1)}))
    assert seen == [threading.current_thread()] * 2


def test_nodes_run_in_the_pipelines_order(tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    pipeline = Pipeline(
        [node(identity, "x", f"a{i}", name=f"a{i}") for i in range(5)]
        + [node(identity, f"a{i}", f"b{i}", name=f"b{i}") for i in range(5)]
    )
    SequentialRunner().run(
        pipeline, DataCatalog({"x": MemoryDataset(1)}), create_hook_manager(EventLog(log))
    )
    ran = [e["node"] for e in read_events(log) if e["hook"] == "before_node_run"]
    assert ran == [n.name for n in pipeline.nodes]


def test_synchronous_mode_is_logged_by_the_sequential_runner_only(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    pipeline = Pipeline([node(identity, "x", "y")])
    SequentialRunner().run(pipeline, DataCatalog({"x": MemoryDataset(1)}))
    assert any(
        m.startswith("Using synchronous mode for loading and saving data.") for m in caplog.messages
    )
    caplog.clear()
    ThreadRunner().run(pipeline, DataCatalog({"x": MemoryDataset(1)}))
    assert not any(m.startswith("Using synchronous mode") for m in caplog.messages)


def test_logger_is_named_after_the_runner_module() -> None:
    assert SequentialRunner()._logger.name == "ductwork.runner.sequential_runner"

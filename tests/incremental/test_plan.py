"""Decisions that the mutation suite does not reach: unsound values, side effects, failures."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from ductwork.datasets import JSONDataset
from ductwork.incremental import Store, files, run_incremental
from ductwork.io import DataCatalog, MemoryDataset
from ductwork.pipeline import Pipeline, node
from ductwork.runner import SequentialRunner

LOCK = threading.Lock()
CALLS: list[str] = []


def uses_lock(x: int) -> int:
    CALLS.append("uses_lock")
    with LOCK:
        return x + 1


def side_effect(x: int) -> None:
    CALLS.append("side_effect")


def plain(x: int) -> int:
    CALLS.append("plain")
    return x * 2


def kind(x: Any) -> str:
    CALLS.append("kind")
    return type(x).__name__


def run(tmp_path: Path, pipeline: Pipeline, catalog: DataCatalog) -> Any:
    CALLS.clear()
    return run_incremental(SequentialRunner(), pipeline, catalog, store=tmp_path / "c.sqlite")


def catalog(tmp_path: Path, data: Any = 1) -> DataCatalog:
    return DataCatalog(
        {
            "x": MemoryDataset(data),
            "y": JSONDataset(filepath=str(tmp_path / "y.json")),
            "z": JSONDataset(filepath=str(tmp_path / "z.json")),
        }
    )


def test_an_unhashable_global_makes_the_node_run_every_time_and_says_which(tmp_path: Path) -> None:
    pipeline = Pipeline([node(uses_lock, "x", "y", name="locked"), node(plain, "x", "z")])
    run(tmp_path, pipeline, catalog(tmp_path))
    result = run(tmp_path, pipeline, catalog(tmp_path))
    assert CALLS == ["uses_lock"]
    reason = result.planner.decisions["locked"].reason
    assert reason.startswith("cannot be cached: global LOCK in ")
    assert "_thread.lock cannot be hashed soundly" in reason


def test_an_unhashable_input_makes_the_node_run(tmp_path: Path) -> None:
    pipeline = Pipeline([node(kind, "x", "y", name="kind")])
    run(tmp_path, pipeline, catalog(tmp_path, object()))
    result = run(tmp_path, pipeline, catalog(tmp_path, object()))
    assert CALLS == ["kind"]
    assert "input x: a value of type builtins.object" in result.planner.decisions["kind"].reason


def test_a_node_without_outputs_always_runs(tmp_path: Path) -> None:
    pipeline = Pipeline([node(side_effect, "x", None, name="effect")])
    run(tmp_path, pipeline, catalog(tmp_path))
    result = run(tmp_path, pipeline, catalog(tmp_path))
    assert CALLS == ["side_effect"]
    assert result.planner.decisions["effect"].reason.startswith("no outputs")


def failing(x: int) -> int:
    raise RuntimeError("no")


def test_nodes_that_succeeded_before_a_failure_are_recorded(tmp_path: Path) -> None:
    pipeline = Pipeline([node(plain, "x", "y", name="plain"), node(failing, "y", "z", name="bad")])
    with pytest.raises(RuntimeError, match="no"):
        run(tmp_path, pipeline, catalog(tmp_path))
    with Store(tmp_path / "c.sqlite") as store:
        assert set(store.records()) == {"plain"}
    fixed = Pipeline([node(plain, "x", "y", name="plain"), node(plain, "y", "z", name="bad")])
    result = run(tmp_path, fixed, catalog(tmp_path))
    assert result.ran == ["bad"]


def test_in_memory_results_are_returned_to_api_callers(tmp_path: Path) -> None:
    pipeline = Pipeline([node(plain, "x", "out", name="plain")])
    assert run(tmp_path, pipeline, catalog(tmp_path))["out"].load() == 2
    again = run(tmp_path, pipeline, catalog(tmp_path))
    assert again["out"].load() == 2  # recomputed: an in-memory result does not survive runs
    assert "is a result of the run" in again.planner.decisions["plain"].reason


def test_a_touched_input_is_hashed_once_even_when_nothing_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files, "RACY_SECONDS", 0.1)  # whatever the filesystem's clock
    source = tmp_path / "in.json"
    source.write_text("[1, 2, 3]")
    pipeline = Pipeline([node(plain, "x", "y", name="plain")])

    def files_catalog() -> DataCatalog:
        return DataCatalog(
            {
                "x": JSONDataset(filepath=str(source)),
                "y": JSONDataset(filepath=str(tmp_path / "y.json")),
            }
        )

    run(tmp_path, pipeline, files_catalog())
    time.sleep(0.2)  # past the racy window of a filesystem with sub-second times
    run(tmp_path, pipeline, files_catalog())  # the outputs' fresh stamps are settled now
    source.touch()
    time.sleep(0.2)
    touched = run(tmp_path, pipeline, files_catalog())
    assert touched.ran == []
    assert touched.planner.files.files_hashed == 1
    again = run(tmp_path, pipeline, files_catalog())
    assert again.ran == []
    assert again.planner.files.files_hashed == 0

"""``only_missing_outputs=True`` under every runner: which nodes run, what is logged."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from ductwork.datasets import PickleDataset
from ductwork.hooks import create_hook_manager
from ductwork.io import DataCatalog, MemoryDataset
from ductwork.pipeline import Pipeline, node
from tests.runner.conftest import MakeRunner
from tests.runner.helpers import EventLog, add, constant, double, identity, read_events

pytestmark = pytest.mark.timeout(120)

PIPELINES: dict[str, list[tuple[str, Any, Any, Any]]] = {
    "chain": [
        ("a", identity, "x", "y"),
        ("b", double, "y", "z"),
        ("c", identity, "z", "out"),
    ],
    "diamond": [
        ("top", identity, "x", "t"),
        ("left", double, "t", "l"),
        ("right", identity, "t", "r"),
        ("bottom", add, ["l", "r"], "out"),
    ],
    "train_evaluate": [
        ("train", double, "x", "model"),
        ("evaluate", identity, "model", "metrics"),
    ],
    "no_outputs": [
        ("a", identity, "x", "y"),
        ("report", lambda y: None, "y", None),
    ],
}

# name: (pipeline, persisted datasets, those that already exist, nodes expected to run)
SCENARIOS: dict[str, tuple[str, set[str], set[str], set[str]]] = {
    "chain, nothing to do": ("chain", {"y", "z", "out"}, {"y", "z", "out"}, set()),
    "chain, everything to do": ("chain", {"y", "z", "out"}, set(), {"a", "b", "c"}),
    "chain, last missing": ("chain", {"y", "z", "out"}, {"y", "z"}, {"c"}),
    "chain, middle missing only": ("chain", {"y", "z", "out"}, {"y", "out"}, {"b"}),
    "chain, memory middle, last missing": ("chain", {"y", "out"}, {"y"}, {"b", "c"}),
    "chain, memory up to the start": ("chain", {"out"}, set(), {"a", "b", "c"}),
    "chain, all memory": ("chain", set(), set(), set()),
    "diamond, nothing to do": ("diamond", {"t", "l", "r", "out"}, {"t", "l", "r", "out"}, set()),
    "diamond, one branch missing": ("diamond", {"t", "l", "r", "out"}, {"t", "r", "out"}, {"left"}),
    "diamond, bottom missing, memory branches": (
        "diamond",
        {"t", "out"},
        {"t"},
        {"left", "right", "bottom"},
    ),
    "diamond, everything to do": (
        "diamond",
        {"t", "l", "r", "out"},
        set(),
        {"top", "left", "right", "bottom"},
    ),
    "diamond, memory top feeds a missing branch": (
        "diamond",
        {"l", "r", "out"},
        {"r", "out"},
        {"top", "left"},
    ),
    "retrained model refreshes in-memory metrics": (
        "train_evaluate",
        {"model"},
        set(),
        {"train", "evaluate"},
    ),
    "existing model, in-memory metrics skipped": ("train_evaluate", {"model"}, {"model"}, set()),
    "node without outputs always runs": ("no_outputs", {"y"}, {"y"}, {"report"}),
}


def build(kind: str) -> Pipeline:
    return Pipeline([node(func, ins, outs, name=name) for name, func, ins, outs in PIPELINES[kind]])


def catalog_for(tmp_path: Path, persisted: set[str], existing: set[str]) -> DataCatalog:
    datasets: dict[str, Any] = {"x": MemoryDataset(5)}
    for name in persisted:
        datasets[name] = PickleDataset(filepath=str(tmp_path / f"{name}.pkl"))
    catalog = DataCatalog(datasets)
    for name in existing:
        catalog.save(name, 1000)
    return catalog


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_runs_exactly_the_needed_nodes(
    scenario: str, make_runner: MakeRunner, tmp_path: Path
) -> None:
    kind, persisted, existing, expected = SCENARIOS[scenario]
    log = tmp_path / "events.jsonl"
    catalog = catalog_for(tmp_path, persisted, existing)
    make_runner().run(
        build(kind), catalog, create_hook_manager(EventLog(log)), only_missing_outputs=True
    )
    ran = {e["node"] for e in read_events(log) if e["hook"] == "after_node_run"}
    assert ran == expected
    for name in persisted:
        assert catalog.exists(name), f"persisted output {name!r} still missing after the run"


def test_summary_lines(
    make_runner: MakeRunner, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    catalog = catalog_for(tmp_path, {"y", "z", "out"}, {"y", "z"})
    make_runner().run(build("chain"), catalog, only_missing_outputs=True)
    assert "Skipping 2 nodes with existing outputs: a, b" in caplog.messages
    assert "Running 1 out of 3 nodes" in caplog.messages


def test_nothing_to_do_is_logged_and_returns_nothing(
    make_runner: MakeRunner, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    catalog = catalog_for(tmp_path, {"y", "z", "out"}, {"y", "z", "out"})
    assert make_runner().run(build("chain"), catalog, only_missing_outputs=True) == {}
    assert "Skipping all 3 nodes (all persistent outputs exist)" in caplog.messages


def test_reasons_are_logged_at_debug(
    make_runner: MakeRunner, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    catalog = catalog_for(tmp_path, {"y", "out"}, {"y"})
    make_runner().run(build("chain"), catalog, only_missing_outputs=True)
    assert "Node 'c' must run: has missing output 'out'" in caplog.messages
    assert "Node 'b' must run: produces 'z' needed by running child 'c'" in caplog.messages


def test_filter_is_consulted_only_when_asked(make_runner: MakeRunner, tmp_path: Path) -> None:
    runner = make_runner()
    calls: list[int] = []
    original = runner._filter_pipeline_for_missing_outputs

    def spy(pipeline: Pipeline, catalog: Any) -> Pipeline:
        calls.append(1)
        return original(pipeline, catalog)

    runner._filter_pipeline_for_missing_outputs = spy  # type: ignore[method-assign]
    runner.run(build("chain"), catalog_for(tmp_path, set(), set()))
    assert calls == []
    runner.run(build("chain"), catalog_for(tmp_path, set(), set()), only_missing_outputs=True)
    assert calls == [1]


def test_run_params_record_only_missing(make_runner: MakeRunner, tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    catalog = catalog_for(tmp_path, {"y", "z", "out"}, set())
    make_runner().run(
        build("chain"), catalog, create_hook_manager(EventLog(log)), only_missing_outputs=True
    )
    assert read_events(log)[0]["run_params"]["only_missing_outputs"] is True


def test_constant_source_with_existing_output_is_skipped(
    make_runner: MakeRunner, tmp_path: Path
) -> None:
    pipeline = Pipeline([node(constant, None, "c", name="source")])
    catalog = DataCatalog({"c": PickleDataset(filepath=str(tmp_path / "c.pkl"))})
    catalog.save("c", 7)
    assert make_runner().run(pipeline, catalog, only_missing_outputs=True) == {}

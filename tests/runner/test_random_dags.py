"""Random pipelines: every runner must agree with a plain evaluation in topological order."""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import HypothesisDeprecationWarning

from ductwork.hooks import create_hook_manager
from ductwork.io import DataCatalog, MemoryDataset
from ductwork.pipeline import Pipeline, node
from tests.runner.conftest import RUNNERS
from tests.runner.helpers import EventLog, RecordingDataset, read_events, total

# Runners that start processes or clusters are slow per run: fewer examples for them.
EXAMPLES = {
    "sequential": 40,
    "thread": 40,
    "parallel": 8,
    "parallel-fork": 4,
    "parallel-spawn": 3,
    "dask": 8,
}


@st.composite
def pipelines(draw: st.DrawFn) -> tuple[list[tuple[str, list[str], str]], set[str]]:
    """Nodes as (name, inputs, output), and the intermediates that are persisted."""
    count = draw(st.integers(1, 300))
    specs = []
    for i in range(count):
        parents = draw(st.lists(st.integers(0, i - 1), max_size=3, unique=True)) if i else []
        free = draw(st.booleans()) or not parents
        specs.append(
            (f"n{i:03d}", [f"d{p}" for p in parents] + (["seed"] if free else []), f"d{i}")
        )
    persisted = {f"d{i}" for i in range(count) if draw(st.integers(0, 3)) == 0}
    return specs, persisted


def evaluate(specs: list[tuple[str, list[str], str]], seed: int) -> dict[str, Any]:
    values: dict[str, Any] = {"seed": seed}
    for _, inputs, output in specs:
        values[output] = total(*(values[i] for i in inputs))
    return values


@pytest.mark.timeout(600)
@pytest.mark.parametrize("runner_name", list(RUNNERS))
def test_runners_agree_with_a_plain_evaluation(runner_name: str) -> None:
    @settings(
        max_examples=EXAMPLES.get(runner_name, 10),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(case=pipelines())
    def check(case: tuple[list[tuple[str, list[str], str]], set[str]]) -> None:
        specs, persisted = case
        with tempfile.TemporaryDirectory() as folder:
            run_and_check(runner_name, specs, persisted, Path(folder))

    with warnings.catch_warnings():
        # The Dask client's own thread uses the random module while Hypothesis draws examples;
        # Hypothesis takes that for the strategy's doing.
        warnings.filterwarnings(
            "ignore", "Do not use the `random` module", HypothesisDeprecationWarning
        )
        check()


def run_and_check(
    runner_name: str, specs: list[tuple[str, list[str], str]], persisted: set[str], folder: Path
) -> None:
    expected = evaluate(specs, seed=1)
    pipeline = Pipeline([node(total, inputs, output, name=name) for name, inputs, output in specs])
    datalog = folder / "datasets.jsonl"
    datasets: dict[str, Any] = {"seed": MemoryDataset(1)}
    for name in persisted:
        datasets[name] = RecordingDataset(folder / f"{name}.pkl", datalog, name)
    events = folder / "events.jsonl"
    outputs = RUNNERS[runner_name]().run(
        pipeline, DataCatalog(datasets), create_hook_manager(EventLog(events))
    )
    assert {name: ds.load() for name, ds in outputs.items()} == {
        name: expected[name] for name in pipeline.outputs()
    }
    check_no_node_starts_before_its_producers(specs, read_events(events))
    check_each_persisted_intermediate_released_once(pipeline, persisted, read_events(datalog))


def check_no_node_starts_before_its_producers(
    specs: list[tuple[str, list[str], str]], events: list[dict[str, Any]]
) -> None:
    started: dict[str, int] = {}
    finished: dict[str, int] = {}
    for event in events:
        if event["hook"] in ("before_dataset_loaded", "before_node_run"):
            started.setdefault(event["node"], event["time"])
        if event["hook"] == "after_dataset_saved":
            finished[event["node"]] = event["time"]
    producer = {output: name for name, _, output in specs}
    for name, inputs, _ in specs:
        for parent in (producer[d] for d in inputs if d in producer):
            assert finished[parent] <= started[name], f"{name} started before {parent} finished"


def check_each_persisted_intermediate_released_once(
    pipeline: Pipeline, persisted: set[str], ops: list[dict[str, Any]]
) -> None:
    intermediates = persisted - pipeline.outputs()
    releases = {e["dataset"]: i for i, e in enumerate(ops) if e["op"] == "release"}
    assert sorted(e["dataset"] for e in ops if e["op"] == "release") == sorted(intermediates)
    for i, event in enumerate(ops):
        if event["op"] == "load" and event["dataset"] in releases:
            assert i < releases[event["dataset"]], f"{event['dataset']} loaded after release"


def test_memory_intermediates_are_released() -> None:
    """A released memory dataset holds no data afterwards."""
    pipeline = Pipeline([node(total, "seed", "x", name="a"), node(total, "x", "y", name="b")])
    held = MemoryDataset()
    RUNNERS["sequential"]().run(pipeline, DataCatalog({"seed": MemoryDataset(1), "x": held}))
    assert not held.exists()

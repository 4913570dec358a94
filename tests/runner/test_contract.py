"""The contract every runner keeps: same outputs, hooks, errors and releases."""

from __future__ import annotations

import gc
import logging
from pathlib import Path
from typing import Any

import pytest

from ductwork.datasets import PickleDataset
from ductwork.hooks import create_hook_manager
from ductwork.io import DataCatalog, DatasetError, MemoryDataset
from ductwork.pipeline import Pipeline, node
from tests.runner.conftest import MakeRunner
from tests.runner.helpers import (
    CustomNodeError,
    EventLog,
    InputOverride,
    RecordingDataset,
    UnreadableDataset,
    UnreadableError,
    add,
    constant,
    double,
    fail,
    identity,
    read_events,
    split,
    stream_pairs,
    stream_three,
    total,
)

pytestmark = pytest.mark.timeout(120)


def diamond() -> Pipeline:
    return Pipeline(
        [
            node(split, "x", ["left", "right"], name="top"),
            node(double, "left", "left2", name="left_branch"),
            node(double, "right", "right2", name="right_branch"),
            node(add, ["left2", "right2"], "out", name="bottom"),
        ]
    )


# --- the seed's examples, verbatim but for the package name -------------------------------------


def test_seed_example_sequential() -> None:
    from ductwork.runner import SequentialRunner

    pipeline = Pipeline([node(double, "x", "my_output")])
    catalog = DataCatalog({"x": MemoryDataset(21)})
    runner = SequentialRunner()
    outputs = runner.run(pipeline, catalog)
    # Note: outputs is a dict of dataset names to Dataset objects
    # Use .load() to access the actual data
    result = outputs["my_output"].load()
    assert result == 42


def test_seed_example_thread() -> None:
    from ductwork.runner import ThreadRunner

    pipeline = Pipeline([node(double, "x", "my_output")])
    catalog = DataCatalog({"x": MemoryDataset(21)})
    runner = ThreadRunner(max_workers=8)
    outputs = runner.run(pipeline, catalog)
    result = outputs["my_output"].load()
    assert result == 42


def test_seed_example_only_missing_outputs(tmp_path: Path) -> None:
    from ductwork.runner import SequentialRunner

    pipeline = Pipeline([node(double, "x", "saved"), node(identity, "saved", "my_output")])
    catalog = DataCatalog(
        {"x": MemoryDataset(21), "saved": PickleDataset(filepath=str(tmp_path / "s.pkl"))}
    )
    # Only run nodes whose outputs don't exist
    runner = SequentialRunner()
    outputs = runner.run(pipeline, catalog, only_missing_outputs=True)
    # Access results using .load()
    result = outputs["my_output"].load()
    assert result == 42


# --- outputs ------------------------------------------------------------------------------------


def test_outputs_are_free_outputs_as_dataset_objects(
    make_runner: MakeRunner, is_async: bool
) -> None:
    catalog = DataCatalog({"x": MemoryDataset(3)})
    outputs = make_runner(is_async).run(diamond(), catalog)
    assert set(outputs) == {"out"}
    assert outputs["out"].load() == 2 * 3 + 2 * 4


def test_persisted_free_outputs_are_returned_too(make_runner: MakeRunner, tmp_path: Path) -> None:
    path = tmp_path / "out.pkl"
    catalog = DataCatalog({"x": MemoryDataset(3), "out": PickleDataset(filepath=str(path))})
    outputs = make_runner().run(diamond(), catalog)
    assert isinstance(outputs["out"], PickleDataset)
    assert outputs["out"].load() == 14
    assert path.exists()


def test_outputs_outlive_the_runner(make_runner: MakeRunner) -> None:
    catalog = DataCatalog({"x": MemoryDataset(3)})
    outputs = make_runner().run(diamond(), catalog)
    gc.collect()
    assert outputs["out"].load() == 14


def test_intermediates_do_not_stay_in_the_callers_catalog(make_runner: MakeRunner) -> None:
    catalog = DataCatalog({"x": MemoryDataset(3)})
    make_runner().run(diamond(), catalog)
    assert set(catalog.keys()) == {"x", "out"}


def test_running_twice_on_one_catalog_gives_the_same_outputs(make_runner: MakeRunner) -> None:
    catalog = DataCatalog({"x": MemoryDataset(3)})
    runner = make_runner()
    first = runner.run(diamond(), catalog)["out"].load()
    second = runner.run(diamond(), catalog)["out"].load()
    assert first == second == 14


def test_empty_pipeline_returns_nothing(make_runner: MakeRunner) -> None:
    assert make_runner().run(Pipeline([]), DataCatalog()) == {}


def test_multiple_free_outputs_and_parameters(make_runner: MakeRunner) -> None:
    pipeline = Pipeline(
        [
            node(add, ["x", "params:step"], "y", name="step"),
            node(split, "y", ["a", "b"], name="split"),
            node(constant, None, "c", name="constant"),
        ]
    )
    catalog = DataCatalog({"x": MemoryDataset(1), "params:step": MemoryDataset(10)})
    outputs = make_runner().run(pipeline, catalog)
    assert {name: ds.load() for name, ds in outputs.items()} == {"a": 11, "b": 12, "c": 1}


# --- validation before anything runs ------------------------------------------------------------


def test_missing_inputs_are_all_named_before_any_node_runs(
    make_runner: MakeRunner, tmp_path: Path
) -> None:
    log = tmp_path / "events.jsonl"
    pipeline = Pipeline(
        [
            node(constant, None, "early", name="early"),
            node(add, ["early", "missing_one"], "mid", name="mid"),
            node(add, ["mid", "missing_two"], "out", name="late"),
        ]
    )
    with pytest.raises(ValueError, match="not found in the DataCatalog") as info:
        make_runner().run(pipeline, DataCatalog(), create_hook_manager(EventLog(log)))
    assert "'missing_one', 'missing_two'" in str(info.value)
    hooks = [e["hook"] for e in read_events(log)]
    assert hooks == ["before_pipeline_run", "on_pipeline_error"]


def test_undeclared_parameter_is_a_missing_input(make_runner: MakeRunner) -> None:
    pipeline = Pipeline([node(add, ["x", "params:alpha"], "y")])
    with pytest.raises(ValueError, match="params:alpha"):
        make_runner().run(pipeline, DataCatalog({"x": MemoryDataset(1)}))


# --- errors -------------------------------------------------------------------------------------


def test_node_error_keeps_its_type_and_names_the_node(
    make_runner: MakeRunner, tmp_path: Path
) -> None:
    log = tmp_path / "events.jsonl"
    pipeline = Pipeline(
        [node(identity, "x", "y", name="fine"), node(fail, "y", "z", name="broken")]
    )
    catalog = DataCatalog({"x": MemoryDataset(1)})
    with pytest.raises(CustomNodeError, match="node failure on purpose") as info:
        make_runner().run(pipeline, catalog, create_hook_manager(EventLog(log)))
    assert any("'broken'" in note for note in getattr(info.value, "__notes__", []))
    events = read_events(log)
    errors = [e for e in events if e["hook"] == "on_node_error"]
    assert [e["node"] for e in errors] == ["broken"]
    assert "CustomNodeError" in errors[0]["error"]
    assert events[-1]["hook"] == "on_pipeline_error"


def test_load_error_names_the_dataset(make_runner: MakeRunner) -> None:
    pipeline = Pipeline([node(identity, "x", "y")])
    with pytest.raises(DatasetError, match="x"):
        make_runner().run(pipeline, DataCatalog({"x": MemoryDataset()}))


@pytest.mark.parametrize("in_memory", [True, False], ids=["in-memory", "persisted"])
def test_a_foreign_dataset_that_fails_to_load_fails_the_node_loading_it(
    make_runner: MakeRunner, tmp_path: Path, in_memory: bool
) -> None:
    # Its error is no DatasetError: it still fails the node that loads it, with its own type,
    # on every runner (not the whole run at its start, where a runner loads in-memory free
    # inputs up front to send them to its workers).
    log = tmp_path / "events.jsonl"
    pipeline = Pipeline([node(identity, "x", "y", name="reader")])
    catalog = DataCatalog({"x": UnreadableDataset(in_memory)})
    with pytest.raises(UnreadableError, match="cannot read on purpose") as info:
        make_runner().run(pipeline, catalog, create_hook_manager(EventLog(log)))
    assert any("'reader'" in note for note in getattr(info.value, "__notes__", []))
    events = [(e["hook"], e.get("node"), e.get("dataset")) for e in read_events(log)]
    assert events == [
        ("before_pipeline_run", None, None),
        ("before_dataset_loaded", "reader", "x"),
        ("on_pipeline_error", None, None),
    ]


def test_none_output_is_refused(make_runner: MakeRunner) -> None:
    pipeline = Pipeline([node(lambda x: None, "x", "y", name="returns_none")])
    with pytest.raises(DatasetError, match="Saving 'None' to a 'Dataset' is not allowed"):
        make_runner().run(pipeline, DataCatalog({"x": MemoryDataset(1)}))


# --- hooks --------------------------------------------------------------------------------------


def test_hooks_fire_in_order_for_a_single_node(make_runner: MakeRunner, tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    pipeline = Pipeline([node(add, ["a", "b"], "c", name="adder")])
    catalog = DataCatalog({"a": MemoryDataset(1), "b": MemoryDataset(2)})
    make_runner().run(pipeline, catalog, create_hook_manager(EventLog(log)), run_id="run-1")
    events = [(e["hook"], e.get("dataset")) for e in read_events(log)]
    assert events == [
        ("before_pipeline_run", None),
        ("before_dataset_loaded", "a"),
        ("after_dataset_loaded", "a"),
        ("before_dataset_loaded", "b"),
        ("after_dataset_loaded", "b"),
        ("before_node_run", None),
        ("after_node_run", None),
        ("before_dataset_saved", "c"),
        ("after_dataset_saved", "c"),
        ("after_pipeline_run", None),
    ]


def test_every_node_fires_its_hooks(
    make_runner: MakeRunner, is_async: bool, tmp_path: Path
) -> None:
    log = tmp_path / "events.jsonl"
    catalog = DataCatalog({"x": MemoryDataset(3)})
    make_runner(is_async).run(diamond(), catalog, create_hook_manager(EventLog(log)))
    events = read_events(log)
    by_node: dict[str, list[str]] = {}
    for event in events:
        if "node" in event:
            by_node.setdefault(event["node"], []).append(event["hook"])
    assert set(by_node) == {"top", "left_branch", "right_branch", "bottom"}
    for hooks in by_node.values():
        assert hooks.index("before_node_run") < hooks.index("after_node_run")
        assert hooks.count("after_dataset_saved") == hooks.count("before_dataset_saved") >= 1
        loads = [i for i, h in enumerate(hooks) if h == "after_dataset_loaded"]
        assert all(i < hooks.index("before_node_run") for i in loads)


def test_run_id_reaches_every_hook(make_runner: MakeRunner, tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    make_runner().run(
        diamond(),
        DataCatalog({"x": MemoryDataset(3)}),
        create_hook_manager(EventLog(log)),
        run_id="abc",
    )
    events = read_events(log)
    assert events[0]["run_params"]["run_id"] == "abc"
    assert {e["run_id"] for e in events if "run_id" in e} == {"abc"}


def test_run_id_is_generated_and_run_params_describe_the_run(
    make_runner: MakeRunner, tmp_path: Path
) -> None:
    log = tmp_path / "events.jsonl"
    runner = make_runner()
    runner.run(diamond(), DataCatalog({"x": MemoryDataset(3)}), create_hook_manager(EventLog(log)))
    runner.run(diamond(), DataCatalog({"x": MemoryDataset(3)}), create_hook_manager(EventLog(log)))
    starts = [e["run_params"] for e in read_events(log) if e["hook"] == "before_pipeline_run"]
    assert all(start["run_id"] for start in starts)
    assert starts[0]["run_id"] != starts[1]["run_id"]
    assert starts[0]["runner"] == type(runner).__name__
    assert starts[0]["only_missing_outputs"] is False


def test_before_node_run_replaces_inputs(make_runner: MakeRunner) -> None:
    catalog = DataCatalog({"x": MemoryDataset(3)})
    hooks = create_hook_manager(InputOverride("left_branch", "left", 100))
    outputs = make_runner().run(diamond(), catalog, hooks)
    assert outputs["out"].load() == 200 + 8


def test_after_pipeline_run_receives_the_result(make_runner: MakeRunner, tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    make_runner().run(
        diamond(), DataCatalog({"x": MemoryDataset(3)}), create_hook_manager(EventLog(log))
    )
    assert read_events(log)[-1]["result"] == ["out"]


# --- generator nodes ----------------------------------------------------------------------------


def test_generator_node_saves_each_chunk(make_runner: MakeRunner, tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    pipeline = Pipeline([node(stream_three, "x", "chunks", name="stream")])
    outputs = make_runner().run(
        pipeline, DataCatalog({"x": MemoryDataset(10)}), create_hook_manager(EventLog(log))
    )
    saved = [e["data"] for e in read_events(log) if e["hook"] == "after_dataset_saved"]
    assert saved == [10, 11, 12]
    assert outputs["chunks"].load() == 12


def test_generator_node_with_dict_outputs_interleaves_chunks(
    make_runner: MakeRunner, tmp_path: Path
) -> None:
    log = tmp_path / "events.jsonl"
    pipeline = Pipeline([node(stream_pairs, "x", {"low": "lo", "high": "hi"}, name="pairs")])
    make_runner().run(
        pipeline, DataCatalog({"x": MemoryDataset(1)}), create_hook_manager(EventLog(log))
    )
    saved = [
        (e["dataset"], e["data"]) for e in read_events(log) if e["hook"] == "after_dataset_saved"
    ]
    assert saved == [("lo", 1), ("hi", 10), ("lo", 2), ("hi", 20), ("lo", 3), ("hi", 30)]


def test_generator_node_in_async_mode_is_refused(make_runner: MakeRunner) -> None:
    pipeline = Pipeline([node(stream_three, "x", "chunks", name="stream")])
    with pytest.raises(ValueError, match="nodes wrapping generator functions"):
        make_runner(is_async=True).run(pipeline, DataCatalog({"x": MemoryDataset(1)}))


# --- releases -----------------------------------------------------------------------------------


def recording_catalog(tmp_path: Path, names: list[str], **data: Any) -> tuple[DataCatalog, Path]:
    log = tmp_path / "datasets.jsonl"
    datasets: dict[str, Any] = {
        name: RecordingDataset(tmp_path / f"{name}.pkl", log, name) for name in names
    }
    catalog = DataCatalog(datasets)
    for name, value in data.items():
        catalog.save(name, value)
    log.unlink(missing_ok=True)
    return catalog, log


def test_intermediate_is_released_after_its_last_consumer(
    make_runner: MakeRunner, tmp_path: Path
) -> None:
    pipeline = Pipeline(
        [
            node(identity, "x", "shared", name="produce"),
            node(double, "shared", "a", name="first_consumer"),
            node(identity, "a", "b", name="middle"),
            node(add, ["shared", "b"], "out", name="last_consumer"),
        ]
    )
    catalog, log = recording_catalog(tmp_path, ["x", "shared", "a", "b", "out"], x=1)
    make_runner().run(pipeline, catalog)
    ops = [(e["op"], e["dataset"]) for e in read_events(log)]
    assert ops.count(("release", "shared")) == 1
    last_load = max(i for i, op in enumerate(ops) if op == ("load", "shared"))
    assert ops.index(("release", "shared")) > last_load
    assert ("release", "x") not in ops
    assert ("release", "out") not in ops
    for name in ("a", "b"):
        assert ops.count(("release", name)) == 1


def test_sequential_release_comes_before_the_next_node_loads(tmp_path: Path) -> None:
    from ductwork.runner import SequentialRunner

    pipeline = Pipeline(
        [
            node(identity, "x", "y", name="one"),
            node(identity, "y", "z", name="two"),
            node(identity, "z", "out", name="three"),
        ]
    )
    catalog, log = recording_catalog(tmp_path, ["x", "y", "z", "out"], x=1)
    SequentialRunner().run(pipeline, catalog)
    ops = [(e["op"], e["dataset"]) for e in read_events(log)]
    assert ops == [
        ("load", "x"),
        ("save", "y"),
        ("load", "y"),
        ("save", "z"),
        ("release", "y"),
        ("load", "z"),
        ("save", "out"),
        ("release", "z"),
    ]


# --- async --------------------------------------------------------------------------------------


def test_async_mode_logs_and_gives_the_same_outputs(
    make_runner: MakeRunner, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    catalog = DataCatalog({"x": MemoryDataset(3)})
    assert make_runner(is_async=True).run(diamond(), catalog)["out"].load() == 14
    assert "Asynchronous mode is enabled for loading and saving data." in caplog.messages


def test_logs_each_completed_node(
    make_runner: MakeRunner, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    make_runner().run(diamond(), DataCatalog({"x": MemoryDataset(3)}))
    assert "Completed 4 out of 4 tasks" in caplog.messages
    assert sum(m.startswith("Completed node: ") for m in caplog.messages) == 4
    assert any(
        m.startswith("Pipeline execution completed successfully in") for m in caplog.messages
    )


def test_total_with_many_inputs(make_runner: MakeRunner) -> None:
    pipeline = Pipeline(
        [node(identity, f"in{i}", f"mid{i}", name=f"copy{i}") for i in range(20)]
        + [node(total, [f"mid{i}" for i in range(20)], "sum", name="sum")]
    )
    catalog = DataCatalog({f"in{i}": MemoryDataset(i) for i in range(20)})
    assert make_runner().run(pipeline, catalog)["sum"].load() == sum(range(20))


def test_intermediates_leave_the_catalog_after_a_failure_too(make_runner: MakeRunner) -> None:
    pipeline = Pipeline(
        [node(identity, "x", "mid", name="first"), node(fail, "mid", "out", name="second")]
    )
    catalog = DataCatalog({"x": MemoryDataset(3)})
    with pytest.raises(CustomNodeError):
        make_runner().run(pipeline, catalog)
    assert set(catalog.keys()) == {"x", "out"}

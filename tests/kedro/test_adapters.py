"""ductwork.kedro's adapters, in process: Kedro's nodes, catalogs and hook managers as ductwork
runs them, the runner options, and the resume command."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cloudpickle
import pytest
from kedro.framework.hooks import hook_impl as kedro_hook_impl
from kedro.framework.hooks.manager import _create_hook_manager
from kedro.framework.hooks.markers import HOOK_NAMESPACE
from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Pipeline, node
from kedro.runner import AbstractRunner as KedroAbstractRunner
from pluggy import HookspecMarker

import ductwork.io as dw
import ductwork.kedro
from ductwork.exceptions import NotPicklableError
from ductwork.kedro import DaskRunner, ParallelRunner, SequentialRunner, ThreadRunner
from ductwork.kedro._command import ResumeCommand
from ductwork.kedro._hooks import KedroHooks, bridge_manager
from ductwork.kedro._pipeline import convert_pipeline
from ductwork.report.journal import load_journal

pytestmark = pytest.mark.timeout(120)


def double(x: int) -> int:
    return 2 * x


def add(a: int, b: int) -> int:
    return a + b


def chunks(x: int) -> Iterator[int]:
    yield from range(x)


def test_public_surface() -> None:
    assert sorted(ductwork.kedro.__all__) == [
        "DaskRunner",
        "ParallelRunner",
        "SequentialRunner",
        "ThreadRunner",
    ]
    for runner in (SequentialRunner, ThreadRunner, ParallelRunner, DaskRunner):
        assert issubclass(runner, KedroAbstractRunner)


def test_nodes_keep_names_namespaces_tags_confirms_and_declarations() -> None:
    kedro_pipeline = Pipeline(
        [
            node(double, "a", "b"),  # a generated name
            node(add, {"a": "b", "b": "params:x"}, "c@pandas", name="adder", tags=["t1", "t2"]),
            node(lambda c: c, "c@spark", "d", confirms="a", namespace="ns"),
            node(chunks, "d", ["e"], name="gen"),
        ]
    )
    converted = convert_pipeline(kedro_pipeline)
    ours = {n.name: n for n in converted.pipeline.nodes}
    assert set(ours) == {n.name for n in kedro_pipeline.nodes}
    for kedro_node in kedro_pipeline.nodes:
        mine = ours[kedro_node.name]
        assert converted.kedro_nodes[mine.name] is kedro_node
        assert mine.inputs == kedro_node.inputs
        assert mine.outputs == kedro_node.outputs
        assert mine.tags == kedro_node.tags
        assert mine.namespace == kedro_node.namespace
        assert list(mine.confirms) == list(kedro_node.confirms)
    assert ours["adder"].run({"b": 2, "params:x": 3}) == {"c@pandas": 5}
    assert ours["gen"].streams_outputs
    # Transcoded names are one dataset in the graph: the lambda node follows the adder.
    order = [n.name for n in converted.pipeline.nodes]
    assert order.index("adder") < order.index(kedro_pipeline.nodes[2].name)


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any, Any]] = []
        self.lock = threading.Lock()

    @kedro_hook_impl
    def before_pipeline_run(self) -> None:
        self.calls.append(("before_pipeline_run", None, None))

    @kedro_hook_impl
    def before_node_run(self, node: Any, catalog: Any, inputs: dict[str, Any]) -> Any:
        with self.lock:
            self.calls.append(("before_node_run", node, catalog))
        return {"a": 10} if "a" in inputs else None

    @kedro_hook_impl
    def after_dataset_saved(self, dataset_name: str, node: Any) -> None:
        with self.lock:
            self.calls.append(("after_dataset_saved", node, dataset_name))


@pytest.mark.parametrize("runner", [SequentialRunner, ThreadRunner])
def test_run_with_kedro_objects_in_process(
    runner: type[KedroAbstractRunner], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    kedro_pipeline = Pipeline([node(double, "a", "b", name="n1"), node(double, "b", "c")])
    catalog = DataCatalog({"a": MemoryDataset(1)})
    recorder = Recorder()
    manager = _create_hook_manager()
    manager.register(recorder)
    result = runner().run(kedro_pipeline, catalog, manager, run_id="r1")
    # The hook's override of "a" (10) reached the node; the free output is in Kedro's catalog.
    assert set(result) == {"c"}
    assert result["c"] is catalog["c"]
    assert catalog.load("c") == 40
    kinds = [call[0] for call in recorder.calls]
    assert "before_pipeline_run" not in kinds, "the session fires pipeline hooks, not the runner"
    assert kinds.count("before_node_run") == 2
    for kind, hook_node, other in recorder.calls:
        assert hook_node in kedro_pipeline.nodes  # Kedro's own node objects
        if kind == "before_node_run":
            assert other is catalog
    journals = list((tmp_path / ".ductwork" / "runs").glob("r1.json"))
    assert len(journals) == 1


def test_only_the_implemented_kedro_hooks_are_forwarded() -> None:
    manager = _create_hook_manager()
    assert KedroHooks(manager, {}).implemented() == []
    assert bridge_manager(KedroHooks(manager, {})).get_plugins() == set()
    manager.register(Recorder())
    kedro = KedroHooks(manager, {})
    assert kedro.implemented() == ["before_node_run", "after_dataset_saved"]
    names = {name for name, _ in bridge_manager(kedro).list_name_plugin()}
    assert names == {"kedro:before_node_run", "kedro:after_dataset_saved"}


kedro_hook_spec = HookspecMarker(HOOK_NAMESPACE)


class RetrySpecs:
    @kedro_hook_spec
    def on_node_retry(
        self, error: Any, node: Any, attempt: int, attempts: int, delay: float, run_id: str
    ) -> None:
        """A project's own specification of ductwork's hook."""


class RetryWatcher:
    def __init__(self) -> None:
        self.attempts: list[tuple[str, int]] = []

    @kedro_hook_impl
    def on_node_retry(self, node: Any, attempt: int) -> None:
        self.attempts.append((node.name, attempt))


class FailsOnce:
    def __init__(self) -> None:
        self.failed = False

    def __call__(self, a: int) -> int:
        if not self.failed:
            self.failed = True
            raise RuntimeError("first attempt fails")
        return a


@pytest.mark.parametrize("has_spec", [False, True])
def test_on_node_retry_is_forwarded_only_where_kedros_manager_has_the_spec(
    has_spec: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    manager = _create_hook_manager()
    if has_spec:
        manager.add_hookspecs(RetrySpecs)
    watcher = RetryWatcher()
    manager.register(watcher)
    assert ("on_node_retry" in KedroHooks(manager, {}).implemented()) is has_spec
    kedro_pipeline = Pipeline([node(FailsOnce(), "a", "b", name="flaky")])
    catalog = DataCatalog({"a": MemoryDataset(1)})
    SequentialRunner(retries=1).run(kedro_pipeline, catalog, manager)
    assert catalog.load("b") == 1
    assert watcher.attempts == ([("flaky", 1)] if has_spec else [])


def test_hooks_on_a_worker_get_the_sessions_catalog_over_the_workers_datasets() -> None:
    session = DataCatalog(
        {"params:x": MemoryDataset(3), "elsewhere": MemoryDataset("other pipeline's")}
    )
    # What a worker holds: a stand-in for the parameter whose data it was not sent, and an
    # output the node has just saved.
    worker = dw.DataCatalog({"params:x": dw.MemoryDataset(), "b": dw.MemoryDataset(5)})
    # The hooks travel as they do to a worker: pickled with the session's catalog.
    travelled = cloudpickle.loads(
        cloudpickle.dumps(KedroHooks(_create_hook_manager(), {}, session))
    )
    view = travelled.catalog(worker)
    assert isinstance(view, DataCatalog)
    assert {"params:x", "elsewhere", "b"} <= set(view.keys())
    assert view.load("params:x") == 3  # the session's, since the worker has none
    assert view.load("b") == 5  # the worker's
    assert view.load("elsewhere") == "other pipeline's"
    assert travelled.catalog(worker) is view  # built once per worker catalog
    worker.save("params:x", 4)
    assert view.load("params:x") == 4  # what the worker holds comes first


def test_a_session_catalog_that_cannot_travel_leaves_the_workers_datasets(
    caplog: pytest.LogCaptureFixture,
) -> None:
    session = DataCatalog(
        {
            "params:x": MemoryDataset(3),
            "locked": MemoryDataset(threading.Lock(), copy_mode="assign"),
        }
    )
    worker = dw.DataCatalog({"b": dw.MemoryDataset(5)})
    with caplog.at_level("INFO", logger="ductwork.kedro._hooks"):
        travelled = cloudpickle.loads(
            cloudpickle.dumps(KedroHooks(_create_hook_manager(), {}, session))
        )
    assert "cannot be sent to the workers" in caplog.text
    view = travelled.catalog(worker)
    assert set(view.keys()) == {"b"}
    assert view.load("b") == 5


class Unpicklable:
    def __init__(self) -> None:
        self.lock = threading.Lock()

    @kedro_hook_impl
    def after_node_run(self) -> None:
        pass


def test_unpicklable_kedro_plugin_is_named_before_any_worker_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    manager = _create_hook_manager()
    manager.register(Unpicklable(), name="locked-plugin")
    started = tmp_path / "started"
    kedro_pipeline = Pipeline([node(lambda a: started.write_text("x"), "a", "b")])
    with pytest.raises(NotPicklableError, match="locked-plugin"):
        ParallelRunner(max_workers=1).run(
            kedro_pipeline, DataCatalog({"a": MemoryDataset(1)}), manager
        )
    assert not started.exists()


class LockedDataset(MemoryDataset):  # type: ignore[misc]
    """A persisted-looking dataset that holds a lock (it cannot travel to a worker)."""

    def __init__(self) -> None:
        super().__init__()
        self._EPHEMERAL = False
        self.lock = threading.Lock()


def test_dataset_that_cannot_reach_workers_is_named_before_any_worker_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    kedro_pipeline = Pipeline([node(double, "a", "locked")])
    catalog = DataCatalog({"a": MemoryDataset(1), "locked": LockedDataset()})
    with pytest.raises(NotPicklableError, match="dataset 'locked'"):
        ParallelRunner(max_workers=1).run(kedro_pipeline, catalog, _create_hook_manager())


def test_runner_options_accept_strings_and_name_bad_values() -> None:
    runner = ThreadRunner(max_workers="3", is_async="true", retries="2", timeout="1.5")
    assert runner._is_async is True
    assert runner._max_workers == 3
    assert runner._failure_options["retry"].attempts == 3
    assert runner._failure_options["timeout"] == 1.5
    with pytest.raises(ValueError, match="max_workers"):
        ParallelRunner(max_workers=0)
    with pytest.raises(ValueError, match="is_async"):
        SequentialRunner(is_async="maybe")
    with pytest.raises(ValueError, match="retries"):
        ThreadRunner(retries="-1")
    with pytest.raises(ValueError, match="timeout"):
        ThreadRunner(timeout="soon")


def test_resume_command_repeats_the_typed_command_with_new_from_nodes() -> None:
    typed = [
        "/venv/bin/kedro",
        "run",
        "--runner=ductwork.kedro.ParallelRunner",
        "--from-nodes",
        "a",
        "--tags",
        "t",
    ]
    command = ResumeCommand("ductwork.kedro.ParallelRunner", {}, typed)
    assert command.from_nodes(["b", "c"]) == (
        "kedro run --runner=ductwork.kedro.ParallelRunner --tags t --from-nodes b,c"
    )
    other = ResumeCommand("ductwork.kedro.ThreadRunner", {"max_workers": 4}, ["/x/myscript.py"])
    assert not other.is_exact()
    assert other.from_nodes(["n.x"]) == (
        "kedro run --runner=ductwork.kedro.ThreadRunner --runner-params=max_workers=4 "
        "--from-nodes n.x"
    )


def test_missing_free_input_is_named_before_any_node_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    started = tmp_path / "started"
    kedro_pipeline = Pipeline(
        [node(lambda: started.write_text("x"), None, "a", name="first"), node(add, ["a", "b"], "c")]
    )
    with pytest.raises(ValueError, match=r"Pipeline input\(s\) \{'b'\} not found"):
        SequentialRunner().run(kedro_pipeline, DataCatalog(), _create_hook_manager())
    assert not started.exists()


@pytest.mark.parametrize("runner", [SequentialRunner, ThreadRunner])
def test_incremental_runs_skip_what_has_not_changed(
    runner: type[KedroAbstractRunner], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pandas as pd
    from kedro_datasets.pandas import CSVDataset

    monkeypatch.chdir(tmp_path)
    log = tmp_path / "calls.log"
    monkeypatch.setenv("DUCTWORK_TEST_LOG", str(log))
    kedro_pipeline = Pipeline([node(_doubled, "a", "b", name="n1")])

    def calls() -> list[int]:
        return [int(line) for line in log.read_text().split()] if log.exists() else []

    def run(values: list[int], run_id: str) -> dict[str, Any]:
        catalog = DataCatalog(
            {
                "a": MemoryDataset(pd.DataFrame({"x": values})),
                "b": CSVDataset(filepath=str(tmp_path / "b.csv")),
            }
        )
        runner(incremental="true").run(kedro_pipeline, catalog, run_id=run_id)
        journal = load_journal(tmp_path / ".ductwork" / "runs" / f"{run_id}.json")
        (entry,) = journal["nodes"]
        assert isinstance(entry, dict)
        return entry

    first = run([1, 2], "r1")
    assert first["status"] == "done"
    assert first["reason"] == "no earlier run recorded"
    second = run([1, 2], "r2")
    assert calls() == [3]  # the second run skipped the node, and its journal says why
    assert second["status"] == "skipped"
    assert second["reason"] == "unchanged since run r1"
    third = run([1, 3], "r3")
    assert calls() == [3, 4]
    assert third["status"] == "done"
    assert third["reason"].startswith("a ")  # the input's value, before -> after
    assert " -> " in third["reason"]
    assert (tmp_path / ".ductwork" / "cache.sqlite").is_file()


def _doubled(frame: Any) -> Any:
    # Records its calls in a file (not in a list: a list the function reads is part of its key).
    with open(os.environ["DUCTWORK_TEST_LOG"], "a", encoding="utf-8") as log:
        log.write(f"{int(frame['x'].sum())}\n")
    return frame * 2


def _scaled(frame: Any, k: int) -> Any:
    return frame.assign(v=frame["v"] * k)


def _total(frame: Any) -> int:
    return int(frame["v"].sum())


@pytest.mark.parametrize("runner", [SequentialRunner, ParallelRunner])
def test_a_shared_memory_catalog_runs_as_the_session_gives_it(
    runner: type[KedroAbstractRunner], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Kedro's session makes a SharedMemoryDataCatalog for its own process runner (and a project
    # may name it in settings.py); its memory datasets need a multiprocessing manager that
    # only Kedro's ParallelRunner starts, and ductwork's runners run it without one.
    import pandas as pd
    from kedro.io import SharedMemoryDataCatalog
    from kedro_datasets.pandas import CSVDataset

    monkeypatch.chdir(tmp_path)
    pd.DataFrame({"v": [1, 2, 3]}).to_csv("raw.csv", index=False)
    catalog = SharedMemoryDataCatalog(
        {
            "raw": CSVDataset(filepath="raw.csv"),
            "params:k": MemoryDataset(2),
            "out": CSVDataset(filepath="out.csv", save_args={"index": False}),
        }
    )
    kedro_pipeline = Pipeline(
        [
            node(_scaled, ["raw", "params:k"], "scaled", name="scale"),
            node(_total, "scaled", "total", name="total"),
            node(_scaled, ["scaled", "params:k"], "out", name="save"),
        ]
    )
    result = runner().run(kedro_pipeline, catalog, _create_hook_manager())
    assert catalog.load("total") == 12
    assert result["total"] is catalog.get("total")
    assert pd.read_csv("out.csv")["v"].tolist() == [4, 8, 12]

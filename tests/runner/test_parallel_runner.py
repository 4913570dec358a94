"""What is particular to ParallelRunner (the contract suite covers what every runner does).

Every test checks afterwards that no worker process and no shared-memory segment of this
process's runs is left behind.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import pytest

from ductwork.hooks import create_hook_manager
from ductwork.io import (
    CachedDataset,
    DataCatalog,
    DatasetError,
    MemoryDataset,
    SharedMemoryDataCatalog,
)
from ductwork.pipeline import Node, Pipeline, node
from ductwork.runner import (
    NodeOutcome,
    NotPicklableError,
    ParallelRunner,
    RemoteNodeError,
    RunnerError,
    RunObserver,
    WorkerLostError,
)
from ductwork.runner.processes import transport
from ductwork.runner.processes.data import RunData
from ductwork.runner.processes.exchange import Exchange
from ductwork.runner.processes.protocol import Task
from tests.runner import process_helpers as helpers
from tests.runner.helpers import CustomNodeError, EventLog, double, fail, identity, read_events

pytestmark = [
    pytest.mark.timeout(120),
    pytest.mark.skipif(not os.path.isdir("/dev/shm"), reason="inspects /dev/shm (Linux)"),
]


@pytest.fixture(autouse=True)
def _nothing_left_behind() -> Iterator[None]:
    before = helpers.descendants()
    yield
    assert helpers.live_workers(ignore=before) == []
    assert helpers.segments() == []


def run(pipeline: Pipeline, catalog: Any, **kwargs: Any) -> dict[str, Any]:
    runner = ParallelRunner(max_workers=kwargs.pop("max_workers", 2))
    return runner.run(pipeline, catalog, **kwargs)


# --- 1, 8: construction, start methods -------------------------------------------------------


def test_default_start_method_is_forkserver_where_available() -> None:
    expected = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    assert ParallelRunner().start_method == expected


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_start_method_by_name_or_context(method: str) -> None:
    assert ParallelRunner(mp_context=method).start_method == method
    context = multiprocessing.get_context(method)
    assert ParallelRunner(mp_context=context).start_method == method


def test_unknown_start_method_names_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="'fork', 'spawn', 'forkserver'") as info:
        ParallelRunner(mp_context="threads")
    assert "'threads'" in str(info.value)
    with pytest.raises(TypeError, match="mp_context"):
        ParallelRunner(mp_context=3)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [0, -1])
def test_non_positive_max_workers_is_refused(bad: int) -> None:
    with pytest.raises(ValueError, match="max_workers should be positive"):
        ParallelRunner(max_workers=bad)


def test_worker_count_is_capped_by_what_can_run_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    fan = Pipeline(
        [node(identity, "x", f"m{i}", name=f"spread{i}") for i in range(3)]
        + [node(lambda *a: sum(a), [f"m{i}" for i in range(3)], "out", name="gather")]
    )
    assert ParallelRunner(max_workers=16)._get_required_workers_count(fan) == 3
    assert ParallelRunner(max_workers=2)._get_required_workers_count(fan) == 2
    monkeypatch.setattr("os.cpu_count", lambda: 7)
    assert ParallelRunner()._max_workers == 7


class Outcomes(RunObserver):
    def __init__(self) -> None:
        self.outcomes: list[NodeOutcome] = []

    def node_finished(self, outcome: NodeOutcome) -> None:
        self.outcomes.append(outcome)


def test_workers_start_once_and_each_node_runs_once() -> None:
    # Twelve independent nodes on two workers: two processes run them all.
    pipeline = Pipeline([node(double, "x", f"y{i}", name=f"n{i}") for i in range(12)])
    observer = Outcomes()
    outputs = run(pipeline, DataCatalog({"x": MemoryDataset(2)}), observer=observer)
    assert {ds.load() for ds in outputs.values()} == {4}
    assert sorted(o.node.name for o in observer.outcomes) == sorted(n.name for n in pipeline.nodes)
    workers = {o.worker for o in observer.outcomes}
    assert len(workers) <= 2
    assert f"pid {os.getpid()}" not in workers


def test_logs_the_synchronous_mode_line(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    run(Pipeline([node(identity, "x", "y")]), DataCatalog({"x": MemoryDataset(1)}))
    assert any(m.startswith("Using synchronous mode for loading") for m in caplog.messages)


# --- 2, 3: catalogs, lambdas, closures, __main__ ---------------------------------------------


def test_lambda_node() -> None:
    pipeline = Pipeline([node(lambda x: x * 10, "x", "y", name="lam")])
    assert run(pipeline, DataCatalog({"x": MemoryDataset(4)}))["y"].load() == 40


def test_closure_node() -> None:
    offset = {"value": 5}

    def add_offset(x: int) -> int:
        return x + offset["value"]

    pipeline = Pipeline([node(add_offset, "x", "y", name="closure")])
    assert run(pipeline, DataCatalog({"x": MemoryDataset(4)}))["y"].load() == 9


@pytest.mark.parametrize("catalog_class", [DataCatalog, SharedMemoryDataCatalog])
def test_either_catalog_is_accepted_and_stays_usable(catalog_class: type[DataCatalog]) -> None:
    given = MemoryDataset(3)
    catalog = catalog_class({"x": given})
    outputs = run(Pipeline([node(double, "x", "y"), node(double, "y", "z")]), catalog)
    assert catalog["x"] is given
    assert sorted(catalog.keys()) == ["x", "z"]
    assert catalog.load("z") == outputs["z"].load() == 12
    catalog.save("x", 5)  # still an ordinary catalog
    assert run(Pipeline([node(double, "x", "y")]), catalog)["y"].load() == 10


MAIN_SCRIPT = """
    import sys
    from ductwork.io import DataCatalog, MemoryDataset
    from ductwork.pipeline import Pipeline, node
    from ductwork.runner import ParallelRunner

    class MainError(Exception):
        pass

    def triple(x):
        return 3 * x

    def refuse(x):
        raise MainError(f"refused {x}")

    if __name__ == "__main__":
        runner = ParallelRunner(max_workers=2, mp_context=sys.argv[1])
        catalog = DataCatalog({"x": MemoryDataset(14)})
        print(runner.run(Pipeline([node(triple, "x", "y")]), catalog)["y"].load())
        try:
            runner.run(Pipeline([node(refuse, "x", "z")]), catalog)
        except MainError as error:  # the class defined here, not a copy
            print("caught", error)
"""


@pytest.mark.parametrize("method", ["forkserver", "spawn"])
def test_functions_and_exceptions_defined_in_main(tmp_path: Path, method: str) -> None:
    script = tmp_path / "pipeline_script.py"
    script.write_text(textwrap.dedent(MAIN_SCRIPT))
    result = subprocess.run(
        [sys.executable, str(script), method],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["42", "caught refused 14"]


# --- 4: what cannot travel, reported before any worker starts ----------------------------------


def test_unpicklable_dataset_the_pipeline_does_not_use_is_accepted() -> None:
    catalog = DataCatalog({"x": MemoryDataset(1), "unused": helpers.LockedDataset()})
    assert run(Pipeline([node(double, "x", "y")]), catalog)["y"].load() == 2


def test_everything_that_cannot_travel_is_reported_at_once(tmp_path: Path) -> None:
    lock = threading.Lock()

    def uses_lock(x: int) -> int:
        with lock:
            return x

    log = tmp_path / "events.jsonl"
    pipeline = Pipeline(
        [
            node(uses_lock, "x", "y", name="locked_node"),
            node(identity, "db", "z", name="reads_db"),
            node(identity, "cached", "w", name="reads_cache"),
            node(identity, "locked_data", "v", name="reads_locked_data"),
            node(helpers.array, "n", "big", name="makes_big"),
        ]
    )
    catalog = DataCatalog(
        {
            "x": MemoryDataset(1),
            "db": helpers.LockedDataset(),
            "cached": CachedDataset(MemoryDataset(1)),
            "locked_data": MemoryDataset([threading.Lock()], copy_mode="assign"),
            "n": MemoryDataset(np.zeros(10**6), copy_mode="assign"),  # exported, then freed
        }
    )
    hooks = create_hook_manager(EventLog(log), helpers.LockedPlugin())
    with pytest.raises(NotPicklableError) as info:
        run(pipeline, catalog, hook_manager=hooks)
    message = str(info.value)
    assert "node 'locked_node'" in message
    assert "<closure lock>" in message
    assert "dataset 'db'" in message
    assert "client['session']" in message
    assert "dataset 'cached'" in message
    assert "_SINGLE_PROCESS" in message
    assert "hook plugin" in message
    assert "'lock'" in message
    assert "dataset 'locked_data': its data: attribute '[0]'" in message
    offenders = set(info.value.offenders)
    expected = {"node 'locked_node'", "dataset 'db'", "dataset 'cached'", "dataset 'locked_data'"}
    assert expected < offenders
    assert len(offenders) == 5
    assert isinstance(info.value, AttributeError)  # what code written for Kedro catches
    assert [e["hook"] for e in read_events(log)] == ["before_pipeline_run", "on_pipeline_error"]


def test_unpicklable_free_input_data_is_reported_before_any_worker_starts() -> None:
    catalog = DataCatalog({"x": MemoryDataset({"lock": threading.Lock()}, copy_mode="assign")})
    with pytest.raises(NotPicklableError, match=r"dataset 'x': its data: .*\['lock'\]"):
        run(Pipeline([node(identity, "x", "y")]), catalog)


def test_worker_that_cannot_set_itself_up_fails_the_run() -> None:
    catalog = DataCatalog({"x": helpers.BrokenOnArrival()})
    with pytest.raises(RunnerError, match="could not set itself up") as info:
        run(Pipeline([node(identity, "x", "y")]), catalog)
    assert "refuses to be unpickled" in str(info.value.__cause__)


# --- 5: data through shared memory ------------------------------------------------------------


def test_consumer_maps_a_large_array_without_copying() -> None:
    pipeline = Pipeline(
        [
            node(helpers.array, "n", "arr", name="produce"),
            node(helpers.describe_buffer, "arr", "facts", name="inspect"),
            node(helpers.describe_buffer, "given", "given_facts", name="inspect_input"),
        ]
    )
    catalog = DataCatalog({"n": MemoryDataset(1_000_000), "given": MemoryDataset(np.ones(10**6))})
    outputs = run(pipeline, catalog)
    for facts in (outputs["facts"].load(), outputs["given_facts"].load()):
        assert facts["in_mapping"], facts
        assert not facts["owns_data"]
        assert facts["writeable"]
        assert facts["pid"] != os.getpid()


def test_writes_to_a_mapped_input_stay_private_to_the_node() -> None:
    pipeline = Pipeline(
        [
            node(helpers.array, "n", "arr", name="produce"),
            node(helpers.mutate_first, "arr", "mutated", name="a_mutate"),
            node(helpers.first, "arr", "seen", name="b_read"),
        ]
    )
    outputs = run(pipeline, DataCatalog({"n": MemoryDataset(100_000)}), max_workers=1)
    assert outputs["mutated"].load() == 99.0
    assert outputs["seen"].load() == 1.0


def test_segments_are_unlinked_once_their_dataset_is_released() -> None:
    # "big" is read twice by one node (so its segment outlives the first mapping: it is
    # unlinked when that node ends); "other" is taken by its only reader. The probe runs
    # after both, whatever else the worker holds (a node may be sent ahead of the run loop).
    pipeline = Pipeline(
        [
            node(helpers.array, "n", "big", name="produce_big"),
            node(helpers.array, "n", "other", name="produce_other"),
            node(helpers.twice, ["big", "big"], "sum", name="reads_twice"),
            node(helpers.first, "other", "first", name="reads_once"),
            node(probe_after, ["sum", "first", "params:pid"], "left", name="probe"),
        ]
    )
    catalog = DataCatalog({"n": MemoryDataset(100_000), "params:pid": MemoryDataset(os.getpid())})
    outputs = run(pipeline, catalog, max_workers=1)
    # By the time the probe runs, "big" and "other" are gone; the probe is the last reader of
    # its own inputs, and unlinks them on mapping them.
    assert outputs["left"].load() == []
    assert helpers.segments() == []


def probe_after(total: Any, first: Any, parent_pid: int) -> list[str]:
    return helpers.shm_probe((total, first), parent_pid)


def test_the_last_reader_of_a_dataset_it_reads_twice_unlinks_it_when_it_ends() -> None:
    # A node sent ahead may run before the parent hears that this one ended: the worker must
    # not leave the segment to the parent's release.
    reader = node(helpers.twice, ["big", "big"], "sum", name="reads_twice")
    pipeline = Pipeline([node(helpers.array, "n", "big", name="make"), reader])
    prefix = transport.run_prefix()
    data = RunData(pipeline, DataCatalog({"n": MemoryDataset(10)}), prefix)
    blob = transport.dump(np.ones(100_000), lambda: f"{prefix}0_0")
    data.produced({"big": blob})
    inputs, takes, errors = data.for_node(reader, ())
    assert takes == {"big"}
    exchange = Exchange(f"{prefix}0_")
    exchange.begin(reader, Task(0, inputs, takes, errors, frozenset(), ()))
    assert float(exchange.load("big").sum() + exchange.load("big").sum()) == 200_000.0
    assert helpers.segments() == [f"{prefix}0_0"]  # the second load needed it
    exchange.finish()
    assert helpers.segments() == []


def test_free_outputs_are_copied_out_of_shared_memory() -> None:
    pipeline = Pipeline([node(helpers.array, "n", "arr", name="produce")])
    outputs = run(pipeline, DataCatalog({"n": MemoryDataset(100_000)}))
    assert helpers.segments() == []
    data = outputs["arr"].load()
    assert not helpers.describe_buffer(data)["in_mapping"]
    assert float(data.sum()) == 100_000.0


def test_unpicklable_output_names_the_node_and_the_dataset() -> None:
    pipeline = Pipeline([node(lambda x: threading.Lock(), "x", "handle", name="locker")])
    with pytest.raises(DatasetError) as info:
        run(pipeline, DataCatalog({"x": MemoryDataset(1)}))
    message = str(info.value)
    assert "'locker'" in message
    assert "handle" in message
    assert "cannot be serialised" in message


# --- 6: hooks and logs in the workers ---------------------------------------------------------


def test_hooks_fire_inside_the_workers(tmp_path: Path) -> None:
    path = tmp_path / "pids.txt"
    plugin = helpers.PidLog(str(path))
    pipeline = Pipeline([node(double, "x", f"y{i}", name=f"n{i}") for i in range(4)])
    run(pipeline, DataCatalog({"x": MemoryDataset(1)}), hook_manager=create_hook_manager(plugin))
    lines = [line.split() for line in path.read_text().splitlines()]
    assert sorted(name for name, _, _ in lines) == ["n0", "n1", "n2", "n3"]
    assert all(int(pid) != os.getpid() for _, pid, _ in lines)
    # Each worker has its own copy of the plugin: the parent's saw nothing.
    assert plugin.seen == []


def test_worker_log_records_reach_the_parents_loggers(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    logging.getLogger("tests.quiet").setLevel(logging.ERROR)
    try:
        run(Pipeline([node(helpers.log_in_worker, "x", "y")]), DataCatalog({"x": MemoryDataset(1)}))
    finally:
        logging.getLogger("tests.quiet").setLevel(logging.NOTSET)
    [record] = [r for r in caplog.records if r.name == "tests.worker"]
    assert record.getMessage().startswith("hello from worker")
    assert record.process != os.getpid()
    assert not [r for r in caplog.records if r.name == "tests.quiet"]


# --- 7: failures ------------------------------------------------------------------------------


def test_node_error_carries_the_remote_traceback() -> None:
    pipeline = Pipeline([node(fail, "x", "y", name="broken")])
    with pytest.raises(CustomNodeError, match="node failure on purpose") as info:
        run(pipeline, DataCatalog({"x": MemoryDataset(1)}))
    remote = str(info.value.__cause__)
    assert "Traceback" in remote
    assert 'raise CustomNodeError("node failure on purpose")' in remote
    assert any("'broken'" in note for note in getattr(info.value, "__notes__", []))


def test_exception_that_cannot_travel_back_is_replaced() -> None:
    pipeline = Pipeline([node(helpers.raise_two_argument_error, "x", "y", name="odd")])
    with pytest.raises(RemoteNodeError) as info:
        run(pipeline, DataCatalog({"x": MemoryDataset(1)}))
    assert info.value.type_name == "tests.runner.process_helpers.TwoArgumentError"
    assert "1-2" in str(info.value)
    assert "raise_two_argument_error" in info.value.remote_traceback
    assert any("'odd'" in note for note in getattr(info.value, "__notes__", []))


def _run_in_thread(pipeline: Pipeline, catalog: Any) -> tuple[threading.Thread, list[Any]]:
    errors: list[BaseException] = []

    def target() -> None:
        try:
            run(pipeline, catalog)
        except BaseException as error:
            errors.append(error)

    thread = threading.Thread(target=target)
    thread.start()
    return thread, errors


def test_worker_killed_mid_node_fails_the_run_naming_the_node(tmp_path: Path) -> None:
    fifo = tmp_path / "ready"
    os.mkfifo(fifo)
    pipeline = Pipeline(
        [
            node(helpers.array, "n", "arr", name="produce"),
            node(helpers.report_and_block, ["arr", "params:fifo"], "out", name="victim"),
        ]
    )
    catalog = DataCatalog({"n": MemoryDataset(100_000), "params:fifo": MemoryDataset(str(fifo))})
    thread, errors = _run_in_thread(pipeline, catalog)
    with open(fifo) as stream:
        pid = int(stream.readline())
    os.kill(pid, signal.SIGKILL)
    thread.join(30)
    assert not thread.is_alive()
    [error] = errors
    assert isinstance(error, WorkerLostError)
    assert "'victim'" in str(error)
    assert "SIGKILL" in str(error)
    assert error.node_name == "victim"
    assert error.exitcode == -signal.SIGKILL
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


CTRL_C_SCRIPT = """
    import sys
    from ductwork.io import DataCatalog, MemoryDataset
    from ductwork.pipeline import Pipeline, node
    from ductwork.runner import ParallelRunner
    from tests.runner.process_helpers import array, report_and_block, twice

    if __name__ == "__main__":
        pipeline = Pipeline([
            node(array, "n", "arr", name="produce"),
            node(report_and_block, ["arr", "params:fifo"], "out", name="blocked"),
            node(twice, ["arr", "out"], "never", name="later"),  # keeps "arr" in shared memory
        ])
        fifo = MemoryDataset(sys.argv[1])
        catalog = DataCatalog({"n": MemoryDataset(10**5), "params:fifo": fifo})
        ParallelRunner(max_workers=2).run(pipeline, catalog)
"""


def test_ctrl_c_stops_the_workers_and_frees_shared_memory(tmp_path: Path) -> None:
    script = tmp_path / "interrupted.py"
    script.write_text(textwrap.dedent(CTRL_C_SCRIPT))
    fifo = tmp_path / "ready"
    os.mkfifo(fifo)
    root = Path(__file__).parents[2]
    env = {**os.environ, "PYTHONPATH": f"{root}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    process = subprocess.Popen(  # its own process group, as a terminal's foreground job
        [sys.executable, str(script), str(fifo)],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        with open(fifo) as stream:
            worker = int(stream.readline())
        assert helpers.segments(process.pid) != []  # the produced array is in shared memory
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C does: the whole group
        _, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode != 0
    assert "KeyboardInterrupt" in stderr
    assert not psutil.pid_exists(worker) or psutil.Process(worker).status() == "zombie"
    assert helpers.segments(process.pid) == []


def test_node_outcomes_come_from_the_workers_in_order() -> None:
    pipeline = Pipeline([node(double, "x", "y", name="a"), node(double, "y", "z", name="b")])
    observer = Outcomes()
    run(pipeline, DataCatalog({"x": MemoryDataset(1)}), observer=observer)
    [first_outcome, second_outcome] = observer.outcomes
    assert [first_outcome.node.name, second_outcome.node.name] == ["a", "b"]
    assert isinstance(first_outcome.node, Node)
    assert first_outcome.finished <= second_outcome.started


def test_workers_see_the_parents_environment_and_folder_at_run_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The fork server outlives runs; what changed since it started must still reach workers.
    run(Pipeline([node(identity, "x", "y")]), DataCatalog({"x": MemoryDataset(1)}))
    monkeypatch.setenv("DUCTWORK_TEST_SETTING", "set after the first run")
    monkeypatch.chdir(tmp_path)
    pipeline = Pipeline(
        [node(lambda _: (os.environ.get("DUCTWORK_TEST_SETTING"), os.getcwd()), "x", "y")]
    )
    setting, folder = run(pipeline, DataCatalog({"x": MemoryDataset(1)}))["y"].load()
    assert setting == "set after the first run"
    assert folder == str(tmp_path)

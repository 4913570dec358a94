"""What is particular to DaskRunner: cluster lifetime, where data lives, lost workers, extras.

The contract suite (``test_contract.py`` and the others) already runs every shared behaviour on
the session's Dask cluster; these tests cover what only a cluster has.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("distributed")

import dask
import psutil
from distributed import Client, LocalCluster

from ductwork.datasets import PickleDataset
from ductwork.hooks import create_hook_manager, hook_impl
from ductwork.io import DataCatalog, MemoryDataset
from ductwork.pipeline import Node, Pipeline, node
from ductwork.runner import (
    DaskRunner,
    NodeOutcome,
    NotPicklableError,
    RunObserver,
    WorkerLostError,
)
from tests.runner.conftest import SessionDaskCluster
from tests.runner.dask_helpers import (
    TaskRecorder,
    Tracked,
    relabel,
    report_pid_then_wait,
    task_records,
    worker_pid,
)
from tests.runner.helpers import (
    CustomNodeError,
    EventLog,
    double,
    fail,
    identity,
    read_events,
    total,
)

pytestmark = pytest.mark.timeout(120)

REPO = Path(__file__).resolve().parents[2]
DEADLINE_SECONDS = 60.0


@pytest.fixture
def client(session_dask_cluster: SessionDaskCluster) -> Client:
    """The session's client (its cluster has two worker processes)."""
    session_client: Client = session_dask_cluster.client()
    return session_client


def eventually(check: Callable[[], bool], what: str, timeout: float = DEADLINE_SECONDS) -> None:
    """Poll ``check`` until it holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


def children() -> set[int]:
    return {child.pid for child in psutil.Process().children(recursive=True)}


def chain() -> Pipeline:
    return Pipeline(
        [
            node(identity, "x", "y", name="a"),
            node(double, "y", "z", name="b"),
            node(identity, "z", "out", name="c"),
        ]
    )


# --- creating a runner ---------------------------------------------------------------------------


def test_client_and_address_together_are_refused(client: Client) -> None:
    with pytest.raises(ValueError, match="not both"):
        DaskRunner(client=client, address="tcp://127.0.0.1:8786")


def test_embedded_cluster_options_with_a_client_are_refused(client: Client) -> None:
    with pytest.raises(ValueError, match="n_workers"):
        DaskRunner(client=client, n_workers=3)


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        check=False,
    )


def test_without_dask_the_error_says_which_extra_to_install() -> None:
    result = run_python(
        "import sys\n"
        "sys.modules['distributed'] = None\n"
        "from ductwork.runner import DaskRunner\n"
        "try:\n"
        "    DaskRunner()\n"
        "except ImportError as error:\n"
        "    print(type(error).__name__, error.name, error)\n"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ModuleNotFoundError distributed ")
    assert "pip install 'ductwork[dask]'" in result.stdout


def test_importing_the_runner_does_not_import_dask() -> None:
    result = run_python(
        "import sys\n"
        "from ductwork.runner import DaskRunner\n"
        "print(sorted(m for m in ('dask', 'distributed') if m in sys.modules))\n"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# --- cluster lifetime ----------------------------------------------------------------------------


class Outcomes(RunObserver):
    def __init__(self) -> None:
        self.outcomes: list[NodeOutcome] = []

    def node_finished(self, outcome: NodeOutcome) -> None:
        self.outcomes.append(outcome)


def test_default_embedded_cluster_is_started_and_closed_by_the_run() -> None:
    before = children()
    observer = Outcomes()
    outputs = DaskRunner(n_workers=1).run(
        Pipeline([node(worker_pid, "x", "pid", name="where")]),
        DataCatalog({"x": 1}),
        observer=observer,
    )
    pid = outputs["pid"].load()
    assert pid != os.getpid()
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert children() - before == set()
    (outcome,) = observer.outcomes
    assert outcome.worker.startswith("tcp://127.0.0.1:")  # loopback only
    assert outcome.started <= outcome.finished


def test_embedded_cluster_defaults_to_a_worker_process_per_core(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ductwork.runner._dask.cluster import embedded_cluster_kwargs

    monkeypatch.setattr("os.cpu_count", lambda: 6)
    defaults = embedded_cluster_kwargs({})
    assert defaults["n_workers"] == 6
    assert defaults["threads_per_worker"] == 1
    assert defaults["processes"] is True
    assert defaults["host"] == "127.0.0.1"
    assert embedded_cluster_kwargs({"n_workers": 2})["n_workers"] == 2


def test_a_given_client_is_left_open(client: Client) -> None:
    DaskRunner(client=client).run(chain(), DataCatalog({"x": 1}))
    assert client.status == "running"


# --- a real deployment with the command-line programs --------------------------------------------


def start(*args: str) -> subprocess.Popen[bytes]:
    dask_program = shutil.which("dask", path=str(Path(sys.executable).parent))
    assert dask_program is not None, "the dask command-line program is not installed"
    environment = {**os.environ, "PYTHONPATH": str(REPO)}  # the workers import tests.runner
    return subprocess.Popen(
        [dask_program, *args],
        cwd=REPO,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def scheduler_address(scheduler_file: Path, scheduler: subprocess.Popen[bytes]) -> str:
    address: list[str] = []

    def written() -> bool:
        assert scheduler.poll() is None, "the scheduler exited"
        try:
            address.append(json.loads(scheduler_file.read_text())["address"])
        except (FileNotFoundError, ValueError, KeyError):  # not written, or half written
            return False
        return True

    eventually(written, "the scheduler to write its address")
    return address[0]


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[str]:
    """A scheduler and two workers started with ``dask scheduler`` and ``dask worker``.

    Loopback only, ports chosen by the system; everything is stopped afterwards, and the test
    fails if any of their processes is left.
    """
    scheduler_file = tmp_path / "scheduler.json"
    programs = [
        start("scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
              "--scheduler-file", str(scheduler_file))
    ]  # fmt: skip
    try:
        address = scheduler_address(scheduler_file, programs[0])
        for number in range(2):
            programs.append(
                start("worker", address, "--host", "127.0.0.1", "--nthreads", "1",
                      "--no-dashboard", "--name", f"worker-{number}")
            )  # fmt: skip
        with Client(address, set_as_default=False, timeout=DEADLINE_SECONDS) as watcher:
            watcher.wait_for_workers(2, timeout=DEADLINE_SECONDS)
        processes = [psutil.Process(p.pid) for p in programs]
        processes += [child for p in processes for child in p.children(recursive=True)]
        yield address
    finally:
        for program in reversed(programs):  # workers first, then the scheduler
            stop(program)
    _, alive = psutil.wait_procs(processes, timeout=DEADLINE_SECONDS)
    for process in alive:  # fail, but leave nothing running
        process.kill()
    assert alive == [], f"processes left behind: {alive}"


def stop(program: subprocess.Popen[bytes]) -> None:
    """Ask ``program`` to shut down (SIGTERM) and wait; kill it if it does not."""
    program.terminate()
    try:
        program.wait(timeout=DEADLINE_SECONDS)
    except subprocess.TimeoutExpired:
        program.kill()
        program.wait()


def test_runs_on_a_cluster_started_with_the_command_line_programs(
    deployment: str, tmp_path: Path
) -> None:
    log = tmp_path / "events.jsonl"
    catalog = DataCatalog(
        {"x": MemoryDataset(5), "z": PickleDataset(filepath=str(tmp_path / "z.pkl"))}
    )
    outputs = DaskRunner(address=deployment).run(
        chain(), catalog, create_hook_manager(EventLog(log))
    )
    assert outputs["out"].load() == 10
    assert PickleDataset(filepath=str(tmp_path / "z.pkl")).load() == 10  # saved by a worker
    node_events = [e for e in read_events(log) if e["hook"] == "after_node_run"]
    assert sorted(e["node"] for e in node_events) == ["a", "b", "c"]
    assert os.getpid() not in {e["pid"] for e in node_events}
    with Client(deployment, set_as_default=False) as watcher:
        assert len(watcher.scheduler_info()["workers"]) == 2, "the run closed the cluster"


# --- where data and hooks live -------------------------------------------------------------------


@contextmanager
def recording_tasks(client: Client) -> Iterator[Callable[[], tuple[Any, Any, Any]]]:
    """Record the run's tasks on the scheduler (see :class:`TaskRecorder`) while in the block;
    the callable yielded gives the records (dependencies, workers that held each result, whether
    a client wanted it)."""
    client.register_plugin(TaskRecorder())
    try:
        yield lambda: client.run_on_scheduler(task_records)
    finally:
        client.unregister_scheduler_plugin(TaskRecorder.name)


def held_keys(client: Client) -> dict[str, list[str]]:
    """The keys of ductwork runs in the cluster's memory (first part only), with their workers.

    A node with one in-memory output holds its data under the node's key (``node:<name>``).
    """
    return {
        str(key[0]): list(workers)
        for key, workers in client.who_has().items()
        if isinstance(key, tuple) and str(key[0]).startswith(("node:", "data:", "done:"))
        and workers
    }  # fmt: skip


def test_intermediate_data_stays_on_the_workers(client: Client, tmp_path: Path) -> None:
    log = str(tmp_path / "arrivals.jsonl")
    pipeline = Pipeline(
        [
            node(relabel, ["x", "params:first"], "y", name="a"),
            node(relabel, ["y", "params:second"], "z", name="b"),
            node(relabel, ["z", "params:third"], "out", name="c"),
        ]
    )
    catalog = DataCatalog(
        {
            "x": MemoryDataset(Tracked("x", log, payload=list(range(1000))), copy_mode="assign"),
            "params:first": "y",
            "params:second": "z",
            "params:third": "out",
        }
    )
    with recording_tasks(client) as records:
        outputs = DaskRunner(client=client).run(pipeline, catalog)
        dependencies, held_by, _wanted = records()
    assert outputs["out"].load().payload == list(range(1000))

    arrivals = read_events(Path(log))
    on_client = {e["tag"] for e in arrivals if e["pid"] == os.getpid()}
    assert on_client == {"out"}, "only the free output may reach the client"
    assert {"y", "z"} <= {e["tag"] for e in arrivals}  # the intermediates did travel, elsewhere
    workers = set(client.scheduler_info()["workers"])
    assert set() < held_by["node:a"] <= workers  # holding y
    assert set() < held_by["node:b"] <= workers  # holding z
    # Each node's task depends on the data it loads, so Dask can place it next to that data.
    assert dependencies["node:b"] == {"node:a"}
    assert dependencies["node:c"] == {"node:b"}


def test_each_in_memory_output_has_a_key_of_its_own(client: Client) -> None:
    from tests.runner.helpers import split

    pipeline = Pipeline(
        [
            node(split, "x", ["low", "high"], name="split"),
            node(identity, "low", "low_out", name="use_low"),
            node(identity, "high", "high_out", name="use_high"),
        ]
    )
    with recording_tasks(client) as records:
        outputs = DaskRunner(client=client).run(pipeline, DataCatalog({"x": 1}))
        dependencies, _held_by, _wanted = records()
    assert {name: ds.load() for name, ds in outputs.items()} == {"low_out": 1, "high_out": 2}
    assert dependencies["node:use_low"] == {"data:low"}
    assert dependencies["node:use_high"] == {"data:high"}


@pytest.mark.parametrize("keep_going", [False, True], ids=["stop-at-failure", "keep-going"])
def test_the_client_holds_no_future_per_node_only_of_the_leaves(
    client: Client, keep_going: bool
) -> None:
    # Outcomes come as worker events: a future per node would only add a report of its end
    # and a release per node between client and scheduler. The leaves' futures keep the graph
    # wanted and tell of a node ending without an outcome (errors reach the leaves below it).
    # A run that keeps going after a failure wants every node: Dask would release, unrun, a
    # task that only a failed one waits for, and the loop may still want it.
    pipeline = Pipeline(
        [
            node(identity, "x", "y", name="a"),
            node(identity, "y", "z", name="b"),
            node(identity, "y", "w", name="c"),
            node(total, ["z", "w"], "out", name="d"),
        ]
    )
    with recording_tasks(client) as records:
        outputs = DaskRunner(client=client, keep_going=keep_going).run(
            pipeline, DataCatalog({"x": 1})
        )
        _dependencies, _held_by, wanted = records()
    assert outputs["out"].load() == 2
    inner = {"a": keep_going, "b": keep_going, "c": keep_going}
    assert wanted == {f"node:{name}": w for name, w in {**inner, "d": True}.items()}


def test_released_data_leaves_the_cluster(client: Client) -> None:
    class CheckReleases(RunObserver):
        def node_started(self, node: Node) -> None:
            if node.name == "c":  # b has finished, so a's output y is no longer needed
                eventually(lambda: "node:a" not in held_keys(client), "y to leave the cluster")

    pipeline = Pipeline(
        [
            node(identity, "x", "y", name="a"),
            node(identity, "y", "z", name="b"),
            node(identity, "z", "w", name="c"),
            node(identity, "w", "out", name="d"),
        ]
    )
    DaskRunner(client=client).run(pipeline, DataCatalog({"x": 1}), observer=CheckReleases())
    eventually(lambda: held_keys(client) == {}, "every key of the run to leave the cluster")


def run_in_thread(
    client: Client, pipeline: Pipeline, catalog: DataCatalog, output: str
) -> tuple[threading.Thread, list[Any]]:
    """Start a Dask run on a thread; the list receives ``output``'s data, or the run's error."""
    result: list[Any] = []

    def run() -> None:
        try:
            result.append(DaskRunner(client=client).run(pipeline, catalog)[output].load())
        except Exception as error:
            result.append(error)

    runner = threading.Thread(target=run)
    runner.start()
    return runner, result


def wanted_by_clients(dask_scheduler: Any, name: str) -> list[bool]:
    """On the scheduler: for each key of node ``name``, whether a client holds a future of it."""
    return [
        bool(task.who_wants)
        for key, task in dask_scheduler.tasks.items()
        if isinstance(key, tuple) and key[0] == f"node:{name}"
    ]


def test_intermediate_data_is_freed_in_step_with_its_last_reader(
    client: Client, tmp_path: Path
) -> None:
    # Data that only nodes already handed to Dask load is the scheduler's to free, as its last
    # reader finishes (as Dask frees its own intermediates): once the loop has heard of the
    # producer, the client holds no future of it. (A release from the client would be one more
    # message to the worker, and its next task would wait for the batch after it.)
    pid_fifo, go_fifo = str(tmp_path / "pid"), str(tmp_path / "go")
    os.mkfifo(pid_fifo)
    os.mkfifo(go_fifo)
    pipeline = Pipeline(
        [
            node(identity, "x", "y", name="a"),
            node(identity, "y", "z", name="b"),
            node(report_pid_then_wait, ["z", "params:pid", "params:go"], "out", name="c"),
        ]
    )
    catalog = DataCatalog({"x": 7, "params:pid": pid_fifo, "params:go": go_fifo})
    runner, result = run_in_thread(client, pipeline, catalog, "out")
    try:
        with open(pid_fifo) as fifo:  # blocks until c has begun: a and b have finished
            fifo.read()
        # z is c's input, and c is running: the scheduler keeps it for c, no client holds it.
        eventually(
            lambda: client.run_on_scheduler(wanted_by_clients, name="b") == [False],
            "the client to let go of b's future",
        )
        eventually(lambda: "node:a" not in held_keys(client), "y to leave the cluster")
    finally:
        with open(go_fifo, "w") as fifo:
            fifo.write("go\n")
        runner.join(DEADLINE_SECONDS)
    assert result == [7]
    eventually(lambda: held_keys(client) == {}, "every key of the run to leave the cluster")


def test_a_node_outcome_leaves_with_its_task_end_not_from_the_task() -> None:
    # Sent from the task, the event would leave the worker at once and the task's end, right
    # behind it, would wait for the worker's next batch to the scheduler; the run's plugin
    # sends it as the worker records the end instead, so both leave in one batch.
    from ductwork.execution import NodeShell
    from ductwork.runner._dask.events import OUTCOMES_TOPIC
    from ductwork.runner._dask.worker import RunPlugin, WorkerRun

    class Worker:
        def __init__(self) -> None:
            self.events: list[tuple[str, Any]] = []

        def log_event(self, topic: str, message: Any) -> None:
            self.events.append((topic, message))

    node_a = node(identity, "x", "y", name="a")
    worker = Worker()
    plugin = RunPlugin(WorkerRun(NodeShell("t"), {"a": node_a}, {}), "ductwork-run-t")
    plugin.setup(worker)
    try:
        key = ("node:a", "t")
        plugin.report(key, NodeOutcome(node_a, None, 1.0, 2.0, "w"))
        assert worker.events == []  # not from the task
        plugin.transition(("node:other", "t"), "executing", "memory")
        assert worker.events == []  # another task's end
        plugin.transition(key, "executing", "memory")
        assert [(topic, [m[:5] for m in messages]) for topic, messages in worker.events] == [
            (OUTCOMES_TOPIC, [["ductwork-run-t", "a", 1.0, 2.0, "w"]])
        ]
        plugin.transition(key, "memory", "released")
        assert len(worker.events) == 1  # once
    finally:
        plugin.teardown(worker)


def test_a_busy_worker_sends_the_outcomes_of_a_run_ahead_together_and_hands_them_to_a_stop() -> (
    None
):
    # While Dask has the nodes ahead of the loop, each event costs a local scheduler's thread
    # as much as a small task: a worker with more tasks to run holds outcomes for a moment and
    # sends them in one event. A run stopped early (Ctrl-C) takes what a worker still holds,
    # so that a node that finished is not journalled as interrupted.
    from ductwork.execution import NodeShell
    from ductwork.runner._dask.events import OUTCOMES_TOPIC
    from ductwork.runner._dask.worker import RunPlugin, WorkerRun, stop_run

    class Loop:
        def __init__(self) -> None:
            self.later: list[tuple[float, Callable[[], Any]]] = []

        def call_later(self, delay: float, callback: Callable[[], Any]) -> None:
            self.later.append((delay, callback))

    class State:
        def __init__(self) -> None:
            self.ready: list[Any] = ["another task"]
            self.executing: set[Any] = set()

    class Worker:
        def __init__(self) -> None:
            self.events: list[tuple[str, Any]] = []
            self.loop, self.state = Loop(), State()
            self.plugins: dict[str, Any] = {}

        def log_event(self, topic: str, message: Any) -> None:
            self.events.append((topic, message))

    nodes = {name: node(identity, "x", f"y{name}", name=name) for name in "abc"}
    worker = Worker()
    run = WorkerRun(NodeShell("t"), nodes, {}, batch=0.01)
    plugin = worker.plugins["p"] = RunPlugin(run, "p")
    plugin.setup(worker)
    try:
        for name in "ab":
            plugin.report(("node:" + name, "t"), NodeOutcome(nodes[name], None, 1.0, 2.0, "w"))
            plugin.transition(("node:" + name, "t"), "executing", "memory")
        assert worker.events == []  # held: the worker has another task ready
        assert [delay for delay, _ in worker.loop.later] == [0.01]  # one timer for both
        worker.loop.later[0][1]()
        assert [(t, [m[1] for m in ms]) for t, ms in worker.events] == [
            (OUTCOMES_TOPIC, ["a", "b"])
        ]
        plugin.report(("node:c", "t"), NodeOutcome(nodes["c"], None, 1.0, 2.0, "w"))
        plugin.transition(("node:c", "t"), "executing", "memory")
        _began, held = stop_run("p", worker)
        assert [message[1] for message in held] == ["c"]  # the stop takes what is held
        worker.state.ready.clear()  # nothing else to run: sent at once
        plugin.report(("node:a", "t"), NodeOutcome(nodes["a"], None, 3.0, 4.0, "w"))
        plugin.transition(("node:a", "t"), "executing", "memory")
        assert [m[1] for m in worker.events[-1][1]] == ["a"]
    finally:
        plugin.teardown(worker)


class PidRecorder:
    """A hook plugin recording the pid of the process each hook fires in."""

    def __init__(self, path: Path) -> None:
        self.log = EventLog(path)

    @hook_impl
    def before_node_run(self, node: Any, inputs: dict[str, Any], run_id: str) -> None:
        self.log.before_node_run(node, inputs, run_id)

    @hook_impl
    def before_dataset_saved(self, dataset_name: str, data: Any, node: Any) -> None:
        self.log.before_dataset_saved(dataset_name, data, node)

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any]) -> None:
        self.log.before_pipeline_run(run_params)


def test_node_hooks_fire_on_the_workers_pipeline_hooks_on_the_client(
    client: Client, tmp_path: Path
) -> None:
    log = tmp_path / "events.jsonl"
    DaskRunner(client=client).run(
        chain(), DataCatalog({"x": 1}), create_hook_manager(PidRecorder(log))
    )
    pids = {(e["hook"], e["pid"] == os.getpid()) for e in read_events(log)}
    assert pids == {
        ("before_pipeline_run", True),
        ("before_node_run", False),
        ("before_dataset_saved", False),
    }


# --- failures ------------------------------------------------------------------------------------


def test_node_exception_keeps_its_type_and_remote_traceback(client: Client) -> None:
    pipeline = Pipeline([node(identity, "x", "y", name="ok"), node(fail, "y", "z", name="bad")])
    with pytest.raises(CustomNodeError) as info:
        DaskRunner(client=client).run(pipeline, DataCatalog({"x": 1}))
    frames = [frame.name for frame in traceback.extract_tb(info.value.__traceback__)]
    assert "fail" in frames, frames  # the node's own frame, from the worker
    assert "ductwork: raised by node 'bad'." in getattr(info.value, "__notes__", [])


def test_everything_that_cannot_travel_is_reported_before_anything_runs(
    client: Client, tmp_path: Path
) -> None:
    lock = threading.Lock()
    held = MemoryDataset(lock, copy_mode="assign")
    log = tmp_path / "events.jsonl"

    class Locked(EventLog):
        def __init__(self) -> None:
            super().__init__(log)
            self.lock = lock

    pipeline = Pipeline(
        [
            node(lambda x: (lock, x)[1], "x", "y", name="closure"),
            node(identity, "y", "saved", name="save"),
            node(lambda h: 1, "held", "unused", name="uses_held"),
        ]
    )
    catalog = DataCatalog(
        {"x": 1, "held": held, "saved": PickleDataset(filepath=str(tmp_path / "s.pkl"))}
    )
    catalog["saved"]._lock = lock  # a dataset holding a lock
    with pytest.raises(NotPicklableError) as info:
        DaskRunner(client=client).run(pipeline, catalog, create_hook_manager(Locked()))
    assert set(info.value.offenders) >= {"node 'closure'", "dataset 'saved'"}
    assert any(what.startswith("plugin ") for what in info.value.offenders)
    assert "_thread.lock" in str(info.value)
    assert [e["hook"] for e in read_events(log)] == ["before_pipeline_run", "on_pipeline_error"]


def test_unpicklable_in_memory_free_input_is_named(client: Client) -> None:
    catalog = DataCatalog({"x": MemoryDataset(threading.Lock(), copy_mode="assign")})
    with pytest.raises(NotPicklableError, match="dataset 'x'"):
        DaskRunner(client=client).run(Pipeline([node(identity, "x", "y")]), catalog)


@pytest.mark.parametrize(("allowed_failures", "expect"), [(1, "retried"), (0, "lost")])
def test_a_worker_killed_mid_node(tmp_path: Path, allowed_failures: int, expect: str) -> None:
    pid_fifo, go_fifo = str(tmp_path / "pid"), str(tmp_path / "go")
    os.mkfifo(pid_fifo)
    os.mkfifo(go_fifo)
    pipeline = Pipeline(
        [
            node(identity, "x", "y", name="before"),
            node(report_pid_then_wait, ["y", "params:pid", "params:go"], "z", name="victim"),
        ]
    )
    catalog = DataCatalog({"x": 7, "params:pid": pid_fifo, "params:go": go_fifo})
    config = {"distributed.scheduler.allowed-failures": allowed_failures}
    with (
        dask.config.set(config),
        LocalCluster(
            n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address="127.0.0.1:0"
        ) as cluster,
        Client(cluster, set_as_default=False) as client,
    ):
        runner, result = run_in_thread(client, pipeline, catalog, "z")
        with open(pid_fifo) as fifo:  # blocks until the node has started on a worker
            first = int(fifo.read())
        os.kill(first, signal.SIGKILL)
        if expect == "retried":
            with open(pid_fifo) as fifo:  # Dask runs the node again, in another process
                assert int(fifo.read()) != first
            with open(go_fifo, "w") as fifo:
                fifo.write("go")
        runner.join(timeout=DEADLINE_SECONDS)
        assert not runner.is_alive(), "the run hangs"
    if expect == "retried":
        assert result == [7]
    else:
        (error,) = result
        assert isinstance(error, WorkerLostError)
        assert "'victim'" in str(error)

"""``kedro run`` options with ductwork's runners: the filters, ``--only-missing-outputs``, a
failing node and its resume command, Ctrl-C."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.kedro.helpers import BIN, HAS_RUNNER_PARAMS, Project, runner_arg

pytestmark = pytest.mark.timeout(600)

PARALLEL = runner_arg("ParallelRunner")


@pytest.fixture(scope="module")
def ran_once(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """A project whose default pipeline has run once (every persisted output exists)."""
    project = Project(tmp_path_factory.mktemp("once") / "project")
    result = project.kedro("run", PARALLEL)
    assert result.returncode == 0, result.output
    return project


FILTERS = [
    ("--tags", "regions"),
    ("--namespaces", "north"),
    ("--to-outputs", "revenue_table"),
    ("--from-nodes", "fit_model"),
    ("--nodes", "revenue,chunks"),
]


@pytest.mark.parametrize(("option", "value"), FILTERS)
def test_filters_select_the_nodes_kedro_selects(option: str, value: str, ran_once: Project) -> None:
    ours = ran_once.kedro("run", PARALLEL, option, value)
    assert ours.returncode == 0, ours.output
    selected = ran_once.nodes_run()
    theirs = ran_once.kedro("run", option, value)  # Kedro's SequentialRunner
    assert theirs.returncode == 0, theirs.output
    assert selected == ran_once.nodes_run()
    assert selected  # the filter selected something


def test_only_missing_outputs_runs_what_produces_missing_data(ran_once: Project) -> None:
    result = ran_once.kedro("run", PARALLEL, "--only-missing-outputs")
    assert result.returncode == 0, result.output
    assert ran_once.nodes_run() == set()
    assert "Skipping all 10 nodes" in result.output

    (ran_once.path / "data/08_reporting/north_report.csv").unlink()
    result = ran_once.kedro("run", PARALLEL, "--only-missing-outputs")
    assert result.returncode == 0, result.output
    # north.summary is in memory: it runs again to feed north.report.
    assert ran_once.nodes_run() == {"north.summary", "north.report"}
    assert (ran_once.path / "data/08_reporting/north_report.csv").exists()


def resume_command(output: str) -> str:
    match = re.search(r"persisted, run[^:]*:\n\s+(kedro run .*)", output)
    assert match, output
    return match.group(1).strip()


def test_failing_node_prints_a_resume_command_that_works_when_pasted(tmp_path: Path) -> None:
    project = Project(tmp_path / "project")
    marker = project.path / "data" / "FAIL"
    marker.write_text("fail")
    extra = ["--runner-params", "max_workers=2,retries=1"] if HAS_RUNNER_PARAMS else []
    failed = project.kedro("run", PARALLEL, "--pipeline", "failing", *extra)
    assert failed.returncode != 0
    assert "flaky_check fails while" in failed.output
    command = resume_command(failed.output)
    assert command.startswith(f"kedro run {PARALLEL} --pipeline failing")
    assert command.endswith("--from-nodes flaky_check")
    if HAS_RUNNER_PARAMS:  # the runner options the user gave are kept
        assert "max_workers=2,retries=1" in command
        retried = [c for c in project.calls() if c["hook"] == "on_node_error"]
        assert len(retried) == 2  # the first attempt and the retry
    journal = project.journals()[-1]
    assert journal["status"] == "failed"
    assert journal["resume_from_nodes"] == ["flaky_check"]

    marker.unlink()
    resumed = project.shell(command)
    assert resumed.returncode == 0, resumed.output
    assert project.nodes_run() == {"flaky_check", "after_check"}


def test_failure_before_any_node_finished_says_to_repeat_the_command(tmp_path: Path) -> None:
    project = Project(tmp_path / "project")
    (project.path / "data/01_raw/companies.csv").write_text("not,a\n")
    failed = project.kedro("run", PARALLEL, "--pipeline", "data_processing")
    assert failed.returncode != 0
    assert "No nodes ran. Repeat the previous command" in failed.output


def _segments(pid: int) -> list[str]:
    shm = Path("/dev/shm")
    return sorted(p.name for p in shm.glob(f"dw{pid}_*")) if shm.exists() else []


def _wait_for(path: Path, process: subprocess.Popen[Any], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if process.poll() is not None:
            out, err = process.communicate()
            pytest.fail(f"kedro run ended early ({process.returncode}):\n{out}\n{err}")
        if time.monotonic() > deadline:
            pytest.fail(f"{path} did not appear within {timeout} s")
        time.sleep(0.05)


# Seconds from Ctrl-C to exit. A thread cannot be stopped from outside: ThreadRunner gives the
# running nodes 2 s to finish before it abandons their (daemon) threads.
EXIT_WITHIN = {"ParallelRunner": 3.0, "SequentialRunner": 3.0, "ThreadRunner": 5.0}


@pytest.mark.parametrize("runner", list(EXIT_WITHIN))
def test_ctrl_c_exits_promptly_leaving_no_worker_or_segment(runner: str, tmp_path: Path) -> None:
    project = Project(tmp_path / "project")
    started = project.path / "data" / "started"
    process = subprocess.Popen(
        [str(BIN / "kedro"), "run", runner_arg(runner), "--pipeline", "blocking"],
        cwd=project.path,
        env=project.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, signalled as a terminal would
    )
    try:
        _wait_for(started, process, timeout=180)
        node_pid = int(started.read_text())
        children = psutil.Process(process.pid).children(recursive=True)
        interrupted = time.monotonic()
        os.killpg(process.pid, signal.SIGINT)
        process.communicate(timeout=EXIT_WITHIN[runner])
        took = time.monotonic() - interrupted
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
    assert took < EXIT_WITHIN[runner]
    assert process.returncode != 0
    _gone, alive = psutil.wait_procs(children, timeout=3)
    assert alive == [], f"left running: {alive}"
    assert not psutil.pid_exists(node_pid) or node_pid == process.pid
    assert _segments(process.pid) == []
    journal = project.journals()[-1]
    assert journal["status"] == "interrupted"


@pytest.mark.skipif(not HAS_RUNNER_PARAMS, reason="--runner-params arrived in Kedro 1.6")
def test_dask_runner_uses_a_running_scheduler_given_by_address(tmp_path: Path) -> None:
    scheduler_file = tmp_path / "scheduler.json"
    project = Project(tmp_path / "project")
    # As on any cluster, the scheduler and workers need the project's code: on their path.
    cluster_env = {**project.env(), "PYTHONPATH": str(project.path / "src")}
    processes = [
        subprocess.Popen(
            [
                str(BIN / "dask"),
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--scheduler-file",
                str(scheduler_file),
            ],
            env=cluster_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    try:
        _wait_for(scheduler_file, processes[0], timeout=120)
        processes.append(
            subprocess.Popen(
                [
                    str(BIN / "dask"),
                    "worker",
                    "--scheduler-file",
                    str(scheduler_file),
                    "--nworkers",
                    "1",
                    "--nthreads",
                    "1",
                    "--no-dashboard",
                ],
                cwd=project.path,
                env=cluster_env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        address = json.loads(scheduler_file.read_text())["address"]
        result = project.kedro(
            "run", runner_arg("DaskRunner"), "--runner-params", f"address={address}"
        )
        assert result.returncode == 0, result.output
        assert len(project.nodes_run()) == 10
        worker_pids = {c["pid"] for c in project.calls() if c["hook"] == "before_node_run"}
        assert worker_pids <= {
            child.pid for child in psutil.Process(processes[1].pid).children(recursive=True)
        } | {processes[1].pid}
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

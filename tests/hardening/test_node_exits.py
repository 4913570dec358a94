"""Finding 1: every way a node can end its process is classified and reported, on every runner:
``ductwork run`` never exits 0 with the pipeline unfinished, and its journal is never left
``running``."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from ductwork.exceptions import NodeExitError
from ductwork.io import DataCatalog
from ductwork.pipeline import Pipeline, node
from ductwork.runner import SequentialRunner, ThreadRunner
from tests.cli.conftest import (
    BASE,
    command,
    journals,
    run_cli,
    runner_params,
    statuses,
    stop_running_command,
)

pytestmark = pytest.mark.timeout(240)

EXITS = """\
import os, signal, sys
from ductwork.pipeline import Pipeline, node

def make():
    return 1

def exit0(x):
    sys.exit(0)

def exit3(x):
    sys.exit(3)

def hard_exit(x):
    os._exit(0)

def terminate_self(x):
    os.kill(os.getpid(), signal.SIGTERM)
    return x

def raise_interrupt(x):
    raise KeyboardInterrupt

def after(y):
    return y

def _chain(bad):
    return Pipeline([node(make, None, "a", name="make"), node(bad, "a", "b", name="bad"),
                     node(after, "b", "c", name="after")])

exit0_p, exit3_p, hard_p = _chain(exit0), _chain(exit3), _chain(hard_exit)
term_p, interrupt_p = _chain(terminate_self), _chain(raise_interrupt)
"""

RUNNERS = runner_params("sequential", "thread", "parallel", "dask")


def _run(
    project: Path, pipeline: str, runner: str
) -> tuple[subprocess.CompletedProcess[str], dict]:  # type: ignore[type-arg]
    (project / "exits.py").write_text(EXITS)
    result = run_cli(project, "run", f"exits:{pipeline}", "--runner", runner, timeout=180)
    [journal] = journals(project)
    return result, journal


@pytest.mark.parametrize("runner", RUNNERS)
@pytest.mark.parametrize("pipeline", ["exit0_p", "exit3_p", "hard_p"])
def test_a_node_that_exits_fails_the_run_on_every_runner(
    project: Path, runner: str, pipeline: str
) -> None:
    result, journal = _run(project, pipeline, runner)
    assert result.returncode == 1, result.stderr
    assert journal["status"] == "failed"
    assert statuses(journal) == {"make": "done", "bad": "failed", "after": "not run"}
    assert journal["error"]["node"] == "bad"
    # A worker process that ends itself is a lost worker; everywhere else it is the node's exit.
    lost = runner in {"parallel", "dask"} and pipeline == "hard_p"
    expected = "WorkerLostError" if lost else "NodeExitError"
    assert journal["error"]["type"].endswith(expected), journal["error"]
    assert "Node 'bad' failed" in result.stderr


@pytest.mark.parametrize("runner", RUNNERS)
def test_a_node_that_signals_its_own_process_never_exits_0(project: Path, runner: str) -> None:
    result, journal = _run(project, "term_p", runner)
    assert result.returncode != 0
    assert journal["status"] != "running"
    assert statuses(journal)["after"] == "not run"
    if runner in {"sequential", "thread"}:  # the command's own process got SIGTERM
        assert result.returncode == 128 + signal.SIGTERM
        assert journal["status"] == "interrupted"
    else:  # the worker's process got it: a lost worker
        assert result.returncode == 1
        assert journal["status"] == "failed"


@pytest.mark.parametrize("runner", RUNNERS)
def test_a_node_raising_keyboard_interrupt_itself_never_exits_0(project: Path, runner: str) -> None:
    result, journal = _run(project, "interrupt_p", runner)
    assert result.returncode in {1, 130}, result.stderr
    assert journal["status"] in {"failed", "interrupted"}
    assert statuses(journal)["bad"] in {"failed", "interrupted"}
    assert statuses(journal)["after"] == "not run"


def test_sigterm_from_outside_stops_the_run_and_records_it(project: Path) -> None:
    handshake = project / "handshake"
    os.mkfifo(handshake / "started")
    os.mkfifo(handshake / "release")
    process = subprocess.Popen(
        command("run", "proj:interruptible", *BASE),
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        with open(handshake / "started", encoding="utf-8") as started:
            started.read()
        stderr = stop_running_command(
            process, signal.SIGTERM, "Interrupted by SIGTERM", handshake / "release", 60
        )
    finally:
        process.kill()
        process.wait()
    assert process.returncode == 128 + signal.SIGTERM, stderr
    assert "Interrupted by SIGTERM" in stderr
    [journal] = journals(project)
    assert journal["status"] == "interrupted"
    assert statuses(journal)["finish"] == "not run"


def _exits(x: int) -> int:
    raise SystemExit(0)


@pytest.mark.parametrize("runner", [SequentialRunner, ThreadRunner])
def test_in_the_library_a_systemexit_is_the_nodes_failure(runner: type) -> None:
    catalog = DataCatalog()
    catalog["a"] = 1
    with pytest.raises(NodeExitError, match=r"raised SystemExit\(0\)") as caught:
        runner().run(Pipeline([node(_exits, "a", "b", name="quitter")]), catalog)
    assert isinstance(caught.value.__cause__, SystemExit)
    assert caught.value.code == 0


def test_the_command_says_the_node_tried_to_exit(project: Path) -> None:
    result, _ = _run(project, "exit0_p", "sequential")
    assert "Node 'bad' failed: ductwork.exceptions.NodeExitError" in result.stderr
    assert "raised SystemExit(0)" in result.stderr

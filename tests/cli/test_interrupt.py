"""Ctrl-C: a run stops cleanly (exit code 130), its journal written; ``--resume`` finishes it.

The node ``gate`` says it is running through one FIFO and waits on another, so the test sends
SIGINT exactly while a node runs, with no sleeps. A node on a thread cannot be stopped from
outside: the test lets it go once the command says it is stopping.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from tests.cli.conftest import (
    BASE,
    PROG,
    calls,
    command,
    journals,
    run_cli,
    runner_params,
    statuses,
    stop_running_command,
)

pytestmark = pytest.mark.timeout(90)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie is gone
    except (OSError, IndexError):
        return False


def _interrupt_gate(project: Path, args: list[str]) -> tuple[str, int, int]:
    """Run ``ductwork *args``, send SIGINT while ``gate`` runs; (stderr, exit code, gate's pid)."""
    handshake = project / "handshake"
    os.mkfifo(handshake / "started")
    os.mkfifo(handshake / "release")
    process = subprocess.Popen(
        command(*args), cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        with open(handshake / "started", encoding="utf-8") as started:
            node_pid = int(started.read())
        stderr = stop_running_command(
            process, signal.SIGINT, "Interrupted: stopping the run", handshake / "release", 20
        )
    finally:
        process.kill()
        process.wait()
    return stderr, process.returncode, node_pid


@pytest.mark.parametrize("runner", runner_params("sequential", "thread", "parallel", "dask"))
def test_ctrl_c_stops_the_run_and_resume_finishes_it(project: Path, runner: str) -> None:
    handshake = project / "handshake"
    args = ["run", "proj:interruptible", *BASE, "--runner", runner]
    stderr, returncode, node_pid = _interrupt_gate(project, args)
    assert "Interrupted: stopping the run" in stderr
    assert returncode == 130, stderr
    assert f"  {PROG} run proj:interruptible {' '.join(BASE[:2])} --runner {runner} " in stderr
    assert not _alive(node_pid), "the process that ran the node is gone"
    [journal] = journals(project)
    assert journal["status"] == "interrupted"
    assert statuses(journal) == {"make": "done", "gate": "interrupted", "finish": "not run"}
    assert calls(project) == ["make", "gate"]

    (handshake / "go").touch()
    result = run_cli(project, *args, "--resume")
    assert result.returncode == 0, result.stderr
    assert calls(project) == ["gate", "finish"]
    resumed = journals(project)[-1]
    assert statuses(resumed) == {"make": "skipped", "gate": "done", "finish": "done"}
    assert resumed["resumed_from"] == journal["run_id"]


@pytest.mark.parametrize("runner", runner_params("sequential", "thread", "parallel", "dask"))
def test_the_journal_of_an_interrupted_run_says_what_ran_with_data_in_memory(
    project: Path, runner: str
) -> None:
    # A runner that starts a node before the run loop hands it out (the Dask runner hands Dask
    # the whole chain) must still tell the journal: `make` finished, `gate` ran and was stopped.
    args = ["run", "proj:interruptible_in_memory", *BASE, "--runner", runner]
    stderr, returncode, _ = _interrupt_gate(project, args)
    assert returncode == 130, stderr
    [journal] = journals(project)
    assert journal["status"] == "interrupted"
    ran = calls(project)
    assert ran[:2] == ["make", "gate"]
    # `gate` is let go once the command says it stops. On Dask, `finish` (Dask has it already)
    # may then start in the instant before the interrupt reaches the workers: the journal must
    # say so. The other runners start nothing after the interrupt.
    assert ran == ["make", "gate"] or (runner == "dask" and ran == ["make", "gate", "finish"])
    finish = "interrupted" if "finish" in ran else "not run"
    assert statuses(journal) == {"make": "done", "gate": "interrupted", "finish": finish}

    (project / "handshake" / "go").touch()
    result = run_cli(project, *args, "--resume")
    assert result.returncode == 0, result.stderr
    assert calls(project) == ["make", "gate", "finish"]  # `make`'s output was in memory
    assert statuses(journals(project)[-1]) == {"make": "done", "gate": "done", "finish": "done"}

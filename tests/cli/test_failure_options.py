"""``--retries``, ``--timeout``, ``--keep-going`` and ``--max-running``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ductwork.cli.runners import RunnerOptions, make_runner
from tests.cli.conftest import BASE, journals, run_cli, statuses

pytestmark = pytest.mark.timeout(120)


def test_options_reach_the_runner() -> None:
    runner = make_runner(
        RunnerOptions("thread", retries=2, timeout=5.0, keep_going=True, max_running=3)
    )
    options = runner._options
    assert options.retry is not None
    assert options.retry.attempts == 3
    assert (options.timeout, options.keep_going, options.max_running) == (5.0, True, 3)


def test_max_running_does_not_apply_to_the_sequential_runner(project: Path) -> None:
    result = run_cli(project, "run", "proj:pipeline", *BASE, "--max-running", "2")
    assert result.returncode == 2
    assert "--max-running does not apply to the sequential runner" in result.stderr


def test_a_node_past_its_time_limit_fails_the_run(project: Path) -> None:
    os.mkfifo(project / "handshake" / "release")  # `gate` blocks opening it: nobody writes
    result = run_cli(project, "run", "proj:interruptible", *BASE, "--timeout", "1")
    assert result.returncode == 1, result.stderr
    assert "ran longer than its time limit of 1 s" in result.stderr
    assert statuses(journals(project)[-1])["gate"] == "failed"


def test_keep_going_is_recorded_and_kept_in_the_resume_command(project: Path) -> None:
    (project / "fail_add").touch()
    result = run_cli(project, "run", "proj:pipeline", *BASE, "--keep-going", "--retries", "1")
    assert result.returncode == 1, result.stderr
    journal = journals(project)[-1]
    assert statuses(journal)["add"] == "failed"
    assert statuses(journal)["report"] == "not run"
    assert "--keep-going" in journal["resume_command"]
    assert "--retries 1" in journal["resume_command"]
    assert "failed on attempt 1 of 2" in result.stderr

"""``ductwork report`` and ``ductwork runs`` on the journals of real runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import BASE, journals, run_cli

pytestmark = pytest.mark.timeout(120)


def _report_path(stdout: str) -> Path:
    return Path(stdout.strip().rsplit(": ", 1)[1])


def test_report_of_the_latest_run_escapes_the_error(project: Path) -> None:
    (project / "fail_add").touch()
    assert run_cli(project, "run", "proj:pipeline", *BASE).returncode == 1
    [journal] = journals(project)
    result = run_cli(project, "report")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"Report of run {journal['run_id']} (failed): ")
    path = _report_path(result.stdout)
    assert path == (project / ".ductwork/reports" / f"{journal['run_id']}.html").resolve()
    page = path.read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;/pre&gt;&lt;!-- failed" in page
    assert "<script>alert(1)" not in page
    assert page.count("<script") == 3


def test_report_of_a_given_run_to_a_given_file_and_a_chrome_trace(project: Path) -> None:
    assert run_cli(project, "run", "proj:pipeline", *BASE, "--run-id", "first").returncode == 0
    assert run_cli(project, "run", "proj:pipeline", *BASE, "--runner", "thread").returncode == 0
    html = run_cli(project, "report", "first", "-o", "out/first.html")
    assert html.returncode == 0, html.stderr
    assert "Run <code>first</code>" in (project / "out/first.html").read_text()
    trace = run_cli(project, "report", "first", "--format", "chrome-trace")
    assert trace.returncode == 0, trace.stderr
    assert _report_path(trace.stdout).name == "first.trace.json"
    events = json.loads(_report_path(trace.stdout).read_text())["traceEvents"]
    assert sorted(e["name"] for e in events if e["ph"] == "X") == sorted(
        ["make", "double", "add", "report", "stats.mean"]
    )
    assert {e["args"]["name"] for e in events if e["name"] == "thread_name"} == {"main"}


def test_runs_lists_the_latest_runs(project: Path) -> None:
    assert "No runs recorded" in run_cli(project, "runs").stdout
    assert run_cli(project, "run", "proj:pipeline", *BASE, "--run-id", "one").returncode == 0
    (project / "fail_add").touch()
    assert run_cli(project, "run", "proj:pipeline", *BASE, "--run-id", "two").returncode == 1
    lines = run_cli(project, "runs").stdout.splitlines()
    assert lines[1].split()[:3] == ["two", "failed", "2/5"]
    assert lines[2].split()[:3] == ["one", "success", "5/5"]
    assert len(run_cli(project, "runs", "-n", "1").stdout.splitlines()) == 2

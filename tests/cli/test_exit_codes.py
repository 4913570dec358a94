"""Exit codes 1 (a node failed) and 2 (usage or configuration), and ``--resume`` after a failure."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.cli.conftest import BASE, PROG, calls, command, journals, run_cli, statuses

pytestmark = pytest.mark.timeout(120)

USAGE_ERRORS = [
    (["run", "proj"], "PIPELINE must look like 'module:attribute'"),
    (["run", "nowhere:pipeline"], "Cannot import module 'nowhere'"),
    (["run", "proj:nothing"], "'proj' has no attribute 'nothing'"),
    (["run", "proj:HOSTILE"], "'proj:HOSTILE' is a str, not a Pipeline"),
    (["run", "proj:pipelines", "--pipeline", "big"], "has no pipeline named 'big'"),
    (["run", "proj:pipeline", "--pipeline", "big"], "is a single pipeline"),
    (["run", "proj:pipeline", "--catalog", "missing.yml"], "catalog file missing.yml: cannot be"),
    (["run", "proj:pipeline", "--catalog", "bad.yml"], "is not valid YAML"),
    (["run", "proj:pipeline", "--catalog", "wrongtype.yml", "--params", "params.yml"], "NoSuch"),
    (["run", "proj:pipeline", "--catalog", "catalog.yml"], "not found in the DataCatalog"),
    (["run", "proj:pipeline", *BASE, "--nodes", "nope"], "nope"),
    (["run", "proj:pipeline", *BASE, "--max-workers", "2"], "--max-workers does not apply"),
    (["run", "proj:pipeline", *BASE, "--max-workers", "0"], "Invalid value for '--max-workers'"),
    (["run", "proj:pipeline", *BASE, "--runner", "spark"], "Invalid value for '--runner'"),
    (["run", "proj:pipeline", *BASE, "--run-id", "../up"], "cannot name a journal file"),
    (["run", "proj:pipeline", *BASE, "--resume"], "Nothing to resume: no run of proj:pipeline"),
    (["run"], "No pipeline to run"),
    (["run", "proj:pipeline", "--frobnicate"], "No such option '--frobnicate'"),
    (["report"], "No run journal in .ductwork/runs"),
    (["report", "no-such-run"], "No journal for run 'no-such-run'"),
]


@pytest.mark.parametrize(("args", "message"), USAGE_ERRORS)
def test_usage_and_configuration_errors_exit_2_with_a_message(
    project: Path, args: list[str], message: str
) -> None:
    (project / "bad.yml").write_text("raw: [unclosed\n")
    (project / "wrongtype.yml").write_text("raw: {type: NoSuchDataset}\n")
    result = run_cli(project, *args)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert calls(project) == []


def test_the_dask_runner_without_dask_is_a_usage_error(project: Path) -> None:
    # Make `distributed` unimportable in the command's process, as on a machine without the
    # extra: a module of that name that refuses to import shadows the real one.
    shadow = project / "shadow"
    shadow.mkdir()
    (shadow / "distributed.py").write_text("raise ImportError('No module named distributed')\n")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(shadow), os.environ.get("PYTHONPATH", "")]),
    }
    result = subprocess.run(
        command("run", "proj:pipeline", *BASE, "--runner", "dask"),
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert "the dask runner needs `pip install 'ductwork[dask]'`" in result.stderr
    assert "Traceback" not in result.stderr
    assert calls(project) == []


def test_pyproject_with_an_unknown_key_is_a_usage_error(project: Path) -> None:
    (project / "pyproject.toml").write_text(
        '[tool.ductwork]\npipeline = "proj:pipeline"\nrunr = 1\n'
    )
    result = run_cli(project, "run")
    assert result.returncode == 2
    assert "unknown key(s) runr in [tool.ductwork]" in result.stderr


def test_verbose_usage_errors_show_the_traceback(project: Path) -> None:
    result = run_cli(project, "run", "nowhere:pipeline", "-v")
    assert result.returncode == 2
    assert "Traceback" in result.stderr


def test_a_failed_node_exits_1_and_says_how_to_resume(project: Path) -> None:
    (project / "fail_add").touch()
    result = run_cli(project, "run", "proj:pipeline", *BASE)
    assert result.returncode == 1
    assert calls(project) == ["make", "double", "add"]
    lines = result.stderr.splitlines()
    assert (
        "Node 'add' failed: ValueError: <script>alert(1)</script> & </pre><!-- failed on "
        "purpose" in lines
    )
    assert f"  {PROG} run proj:pipeline --catalog catalog.yml --params params.yml --resume" in lines
    # `doubled` was in memory: resuming from `add` alone would lack it.
    assert (
        f"  {PROG} run proj:pipeline --catalog catalog.yml --params params.yml --from-nodes double"
        in lines
    )
    assert 'proj.py", line' in result.stderr, "the node's traceback"
    [journal] = journals(project)
    assert journal["status"] == "failed"
    assert statuses(journal) == {
        "make": "done",
        "double": "done",
        "add": "failed",
        "report": "not run",
        "stats.mean": "not run",
    }
    assert journal["error"]["node"] == "add"
    assert journal["error"]["type"] == "ValueError"
    assert "failed on purpose" in journal["error"]["traceback"]
    assert journal["resume_from_nodes"] == ["double"]


def test_resume_runs_only_what_the_failed_run_did_not_finish(project: Path) -> None:
    (project / "fail_add").touch()
    assert run_cli(project, "run", "proj:pipeline", *BASE).returncode == 1
    calls(project)
    failed = journals(project)[0]
    (project / "fail_add").unlink()
    dry = run_cli(project, "run", "proj:pipeline", *BASE, "--resume", "--dry-run")
    assert dry.stdout.splitlines()[1:] == [
        f"   1  skip  make        finished in run {failed['run_id']}",
        "   2  run   double      recomputes in-memory 'doubled' for 'add'",
        f"   3  run   add         failed in run {failed['run_id']}",
        f"   4  run   report      not run in run {failed['run_id']}",
        f"   5  run   stats.mean  not run in run {failed['run_id']}",
    ]
    result = run_cli(project, "run", "proj:pipeline", *BASE, "--resume")
    assert result.returncode == 0, result.stderr
    assert calls(project) == ["double", "add", "report", "stats.mean"]
    resumed = journals(project)[-1]
    assert resumed["resumed_from"] == failed["run_id"]
    assert statuses(resumed)["make"] == "skipped"
    assert (project / "data" / "summary.txt").read_text() == "total=18 start=1"
    again = run_cli(project, "run", "proj:pipeline", *BASE, "--resume")
    assert again.returncode == 0
    assert "Nothing to resume" in again.stderr
    assert calls(project) == []


def test_quiet_failure_still_says_what_failed(project: Path) -> None:
    (project / "fail_add").touch()
    result = run_cli(project, "run", "proj:pipeline", *BASE, "-q")
    assert result.returncode == 1
    assert "Node 'add' failed" in result.stderr
    assert "Traceback" not in result.stderr

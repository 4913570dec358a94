"""``ductwork run --incremental``, ``--dry-run --explain`` and ``ductwork cache``, run as a user
runs them."""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import pytest

from tests.cli.conftest import run_cli

PROJECT = """
from pathlib import Path

from ductwork.pipeline import Pipeline, node

HERE = Path(__file__).resolve().parent


def _record(name):
    with open(HERE / "calls.log", "a", encoding="utf-8") as log:
        log.write(name + "\\n")


def make(start):
    _record("make")
    return start + 1


def double(x, factor):
    _record("double")
    return x * factor


def report(value):
    _record("report")
    return f"value={value}"


pipeline = Pipeline(
    [
        node(make, "params:start", "made", name="make"),
        node(double, ["made", "params:factor"], "doubled", name="double"),
        node(report, "doubled", "summary", name="report"),
    ]
)
"""
CATALOG = """\
doubled: {type: PickleDataset, filepath: data/doubled.pkl}
summary: {type: TextDataset, filepath: data/summary.txt}
"""
RUN = ["run", "proj:pipeline", "--catalog", "catalog.yml", "--params", "params.yml"]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "proj.py").write_text(textwrap.dedent(PROJECT))
    (tmp_path / "catalog.yml").write_text(CATALOG)
    (tmp_path / "params.yml").write_text("start: 1\nfactor: 3\n")
    return tmp_path


def calls(folder: Path) -> list[str]:
    log = folder / "calls.log"
    names = log.read_text().split() if log.exists() else []
    log.unlink(missing_ok=True)
    return names


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout + result.stderr


@pytest.mark.parametrize("runner", ["sequential", "thread", "parallel"])
def test_a_second_run_skips_everything_and_a_param_change_reruns_what_reads_it(
    folder: Path, runner: str
) -> None:
    ok(run_cli(folder, *RUN, "--incremental", "--runner", runner))
    assert sorted(calls(folder)) == ["double", "make", "report"]
    output = ok(run_cli(folder, *RUN, "--incremental", "--runner", runner))
    assert calls(folder) == []
    assert "0 nodes done, 3 skipped" in output
    (folder / "params.yml").write_text("start: 1\nfactor: 4\n")
    ok(run_cli(folder, *RUN, "--incremental", "--runner", runner))
    # make's in-memory output is needed by double, which runs: make runs again too.
    assert sorted(calls(folder)) == ["double", "make", "report"]
    assert (folder / "data" / "summary.txt").read_text() == "value=8"


def test_dry_run_explain_names_each_reason_and_runs_nothing(folder: Path) -> None:
    ok(run_cli(folder, *RUN, "--incremental"))
    calls(folder)
    (folder / "params.yml").write_text("start: 1\nfactor: 5\n")
    output = ok(run_cli(folder, *RUN, "--incremental", "--dry-run", "--explain"))
    assert calls(folder) == []
    lines = output.splitlines()
    assert lines[0].startswith("Dry run (incremental): 2 of 3 nodes would run, 0 skipped")
    assert any(
        "run   make" in line and "recomputes in-memory made for double" in line for line in lines
    )
    assert any("run   double" in line and "params:factor 3 -> 5" in line for line in lines)
    assert any("run?  report" in line and "upstream double" in line for line in lines)


def test_the_journal_records_why_each_node_ran_or_was_skipped(folder: Path) -> None:
    ok(run_cli(folder, *RUN, "--incremental", "--run-id", "first"))
    ok(run_cli(folder, *RUN, "--incremental", "--run-id", "second"))
    journal = json.loads((folder / ".ductwork" / "runs" / "second.json").read_text())
    entries = {entry["name"]: entry for entry in journal["nodes"]}
    assert {entry["status"] for entry in entries.values()} == {"skipped"}
    assert entries["report"]["reason"] == "unchanged since run first"
    assert journal["options"]["incremental"] is True


def test_early_cut_off_from_the_command_line(folder: Path) -> None:
    ok(run_cli(folder, *RUN, "--incremental"))
    calls(folder)
    # double's code changes but not its output: report is not run again.
    text = (folder / "proj.py").read_text().replace("return x * factor", "return factor * x")
    (folder / "proj.py").write_text(text)
    output = ok(run_cli(folder, *RUN, "--incremental", "--explain"))
    assert sorted(calls(folder)) == ["double", "make"]
    assert "unchanged: upstream double re-ran to the same output" in output


def test_cache_show_clear_prune_and_a_configured_path(folder: Path) -> None:
    (folder / "pyproject.toml").write_text('[tool.ductwork]\ncache = "state/my.sqlite"\n')
    ok(run_cli(folder, *RUN, "--incremental"))
    assert (folder / "state" / "my.sqlite").is_file()
    assert not (folder / ".ductwork" / "cache.sqlite").exists()
    shown = ok(run_cli(folder, "cache", "show", "--nodes"))
    assert "3 nodes recorded" in shown
    assert "report" in shown
    assert "Pruned 0 node record(s)" in ok(run_cli(folder, "cache", "prune"))
    assert "Forgot 1 node(s)" in ok(run_cli(folder, "cache", "clear", "--nodes", "report"))
    calls(folder)
    ok(run_cli(folder, *RUN, "--incremental"))
    assert calls(folder) == ["report"]
    assert "Cleared 3 node record(s)" in ok(run_cli(folder, "cache", "clear"))
    other = folder / "elsewhere.sqlite"
    ok(run_cli(folder, *RUN, "--incremental", "--cache", str(other)))
    assert other.is_file()


def test_cache_show_without_a_store(folder: Path) -> None:
    assert "nothing recorded yet" in ok(run_cli(folder, "cache", "show"))

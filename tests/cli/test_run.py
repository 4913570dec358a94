"""``ductwork run``, the real command in a subprocess: runners, options, journal, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import BASE, PROG, calls, journals, run_cli, runner_params, statuses

ALL = ["make", "double", "add", "report", "stats.mean"]
pytestmark = pytest.mark.timeout(120)


@pytest.mark.parametrize("runner", runner_params())
def test_a_run_succeeds_and_its_journal_says_what_ran_where(project: Path, runner: str) -> None:
    result = run_cli(project, "run", "proj:pipeline", *BASE, "--runner", runner)
    assert result.returncode == 0, result.stderr
    assert sorted(calls(project)) == sorted(ALL)
    assert (project / "data" / "summary.txt").read_text() == "total=18 start=1"
    [journal] = journals(project)
    assert journal["status"] == "success"
    assert journal["runner"] == runner
    assert journal["pipeline"] == "proj:pipeline"
    assert [entry["name"] for entry in journal["nodes"]] == [
        "make",
        "double",
        "add",
        "report",
        "stats.mean",
    ]
    assert set(statuses(journal).values()) == {"done"}
    for entry in journal["nodes"]:
        assert journal["started"] <= entry["started"] <= entry["finished"] <= journal["finished"]
        assert entry["worker"]
    assert journal["counts"] == {"done": 5}
    assert journal["resume_command"] == (
        f"{PROG} run proj:pipeline --catalog catalog.yml --runner {runner} --params params.yml "
        "--resume"
    )
    assert f"Run {journal['run_id']} succeeded: 5 nodes done, 0 skipped" in result.stderr


def test_sequential_runs_in_order_on_the_main_thread(project: Path) -> None:
    assert run_cli(project, "run", "proj:pipeline", *BASE).returncode == 0
    assert calls(project) == ALL
    [journal] = journals(project)
    assert journal["runner"] == "sequential"
    assert {entry["worker"] for entry in journal["nodes"]} == {"main"}


def test_thread_runner_takes_max_workers_and_async(project: Path) -> None:
    args = ["--runner", "thread", "--max-workers", "1", "--async"]
    result = run_cli(project, "run", "proj:pipeline", *BASE, *args)
    assert result.returncode == 0, result.stderr
    [journal] = journals(project)
    assert {entry["worker"] for entry in journal["nodes"]} == {"ductwork-0"}
    assert journal["options"]["max_workers"] == 1
    assert journal["options"]["is_async"] is True


@pytest.mark.parametrize(
    ("pipeline", "expected"),
    [
        (["proj:pipelines"], ALL),
        (["proj:pipelines", "--pipeline", "small"], ["make"]),
        (["proj:create_pipelines", "--pipeline", "small"], ["make"]),
    ],
)
def test_pipeline_from_a_mapping_or_a_function(
    project: Path, pipeline: list[str], expected: list[str]
) -> None:
    result = run_cli(project, "run", *pipeline, *BASE)
    assert result.returncode == 0, result.stderr
    assert calls(project) == expected


FILTERS = [
    (["--nodes", "make,double"], ["make", "double"]),
    (["--nodes", "make", "--nodes", "add"], ["make", "add"]),
    (["--from-nodes", "add"], ["add", "report", "stats.mean"]),
    (["--to-nodes", "add"], ["make", "double", "add"]),
    (["--from-inputs", "doubled"], ["add", "report", "stats.mean"]),
    (["--to-outputs", "doubled"], ["make", "double"]),
    (["--tags", "first,last"], ["make", "report"]),
    (["--namespaces", "stats"], ["stats.mean"]),
    (["--from-nodes", "double", "--to-nodes", "add"], ["double", "add"]),
]


@pytest.mark.parametrize(("options", "expected"), FILTERS)
def test_filters_select_nodes(project: Path, options: list[str], expected: list[str]) -> None:
    result = run_cli(project, "run", "proj:pipeline", *BASE, *options, "--dry-run")
    assert result.returncode == 0, result.stderr
    listed = [line.split()[2] for line in result.stdout.splitlines()[1:]]
    assert listed == expected
    assert calls(project) == []


def test_a_filtered_run_runs_only_the_selection(project: Path) -> None:
    result = run_cli(project, "run", "proj:pipeline", *BASE, "--to-outputs", "total")
    assert result.returncode == 0, result.stderr
    assert calls(project) == ["make", "double", "add"]
    [journal] = journals(project)
    assert journal["options"]["filters"] == {"to_outputs": ["total"]}


def test_only_missing_outputs_runs_what_a_missing_output_needs(project: Path) -> None:
    assert run_cli(project, "run", "proj:pipeline", *BASE).returncode == 0
    calls(project)
    (project / "data" / "total.pkl").unlink()
    result = run_cli(project, "run", "proj:pipeline", *BASE, "--only-missing-outputs")
    assert result.returncode == 0, result.stderr
    # `doubled` lived in memory, so `double` runs again for `add`; `mean` returns its result in
    # memory from the fresh `total`, so it runs too; `make` and `report` are skipped.
    assert calls(project) == ["double", "add", "stats.mean"]
    journal = journals(project)[-1]
    assert statuses(journal) == {
        "make": "skipped",
        "double": "done",
        "add": "done",
        "report": "skipped",
        "stats.mean": "done",
    }
    assert journal["nodes"][0]["reason"] == "all outputs exist: raw"


def test_dry_run_of_a_partly_materialised_project(project: Path) -> None:
    assert run_cli(project, "run", "proj:pipeline", *BASE).returncode == 0
    calls(project)
    (project / "data" / "total.pkl").unlink()
    (project / "data" / "summary.txt").unlink()
    before = journals(project)
    result = run_cli(project, "run", "proj:pipeline", *BASE, "--only-missing-outputs", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "Dry run: 4 of 5 nodes would run, 1 skipped. Nothing was run.",
        "   1  skip  make        all outputs exist: raw",
        "   2  run   double      produces 'doubled' needed by running child 'add'",
        "   3  run   add         has missing output 'total'",
        "   4  run   report      has missing output 'summary'",
        "   5  run   stats.mean  returns 'stats.mean' in memory and reads 'total' from running "
        "node 'add'",
    ]
    assert calls(project) == []
    assert journals(project) == before, "a dry run writes no journal"
    assert not (project / "data" / "total.pkl").exists()


def test_dry_run_without_only_missing_runs_everything(project: Path) -> None:
    result = run_cli(project, "run", "proj:pipeline", *BASE, "--dry-run")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "Dry run: 5 of 5 nodes would run, 0 skipped. Nothing was run."
    assert all(" run " in line and "selected" in line for line in lines[1:])


def test_params_nested_keys_and_whole_dict(project: Path) -> None:
    (project / "more.yml").write_text("nested:\n  factor: 10\n")
    result = run_cli(project, "run", "proj:pipeline", *BASE, "--params", "more.yml")
    assert result.returncode == 0, result.stderr
    assert (project / "data" / "summary.txt").read_text() == "total=60 start=1"


def test_settings_from_pyproject(project: Path) -> None:
    (project / "pyproject.toml").write_text(
        "[tool.ductwork]\n"
        'pipeline = "proj:pipelines"\n'
        'pipeline_name = "small"\n'
        'catalog = "catalog.yml"\n'
        'params = "params.yml"\n'
        'runner = "thread"\n'
        "max_workers = 2\n"
        'journal_dir = "runs"\n'
    )
    result = run_cli(project, "run")
    assert result.returncode == 0, result.stderr
    assert calls(project) == ["make"]
    [journal] = journals(project, "runs")
    assert journal["runner"] == "thread"
    assert journal["pipeline_name"] == "small"
    assert journal["options"]["max_workers"] == 2
    assert journal["resume_command"] == f"{PROG} run --resume"
    # The command line wins over the settings.
    assert run_cli(project, "run", "--pipeline", "__default__").returncode == 0
    assert sorted(calls(project)) == sorted(ALL)


def test_run_id_names_the_journal(project: Path) -> None:
    result = run_cli(project, "run", "proj:pipeline", *BASE, "--run-id", "nightly-1")
    assert result.returncode == 0, result.stderr
    journal = json.loads((project / ".ductwork/runs/nightly-1.json").read_text())
    assert journal["run_id"] == "nightly-1"
    again = run_cli(project, "run", "proj:pipeline", *BASE, "--run-id", "nightly-1")
    assert again.returncode == 2
    assert "Run id 'nightly-1' is taken" in again.stderr


def test_journal_dir_option(project: Path) -> None:
    result = run_cli(project, "run", "proj:pipeline", *BASE, "--journal-dir", "elsewhere")
    assert result.returncode == 0, result.stderr
    assert len(journals(project, "elsewhere")) == 1
    assert not (project / ".ductwork").exists()


def test_quiet_prints_nothing_on_success_and_verbose_shows_library_logs(project: Path) -> None:
    quiet = run_cli(project, "run", "proj:pipeline", *BASE, "-q")
    assert quiet.returncode == 0
    assert quiet.stderr == ""
    assert quiet.stdout == ""
    plain = run_cli(project, "run", "proj:pipeline", *BASE)
    assert "[5/5] done   stats.mean" in plain.stderr
    assert "Completed node" not in plain.stderr
    verbose = run_cli(project, "run", "proj:pipeline", *BASE, "-v")
    assert "Completed node: stats.mean" in verbose.stderr
    assert "Loading data from raw (PickleDataset)" in verbose.stderr

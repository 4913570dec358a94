"""``kedro run --runner=ductwork.kedro.X`` in the fixture project, as a subprocess.

Every ductwork runner must write the same files as Kedro's own SequentialRunner and fire the
same hooks, with Kedro's arguments, node by node (processes and Dask included); the session
fires the pipeline hooks, once each.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from tests.kedro.helpers import BIN, RUN_TIMEOUT, RUNNERS, Project, params_for, runner_arg

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def kedro_reference(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The fixture's default pipeline under Kedro's own SequentialRunner."""
    project = Project(tmp_path_factory.mktemp("kedro") / "project")
    result = project.kedro("run")
    assert result.returncode == 0, result.output
    return project


@pytest.mark.parametrize("runner", RUNNERS)
def test_runner_writes_the_same_files_and_fires_the_same_hooks_as_kedro(
    runner: str, kedro_reference: Project, tmp_path: Path
) -> None:
    project = Project(tmp_path / "project")
    result = project.kedro("run", runner_arg(runner), *params_for(runner))
    assert result.returncode == 0, result.output

    assert project.data_files() == kedro_reference.data_files()
    assert project.calls_by_node() == kedro_reference.calls_by_node()
    calls = project.calls()
    hooks = Counter(call["hook"] for call in calls)
    assert hooks["before_pipeline_run"] == 1
    assert hooks["after_pipeline_run"] == 1
    assert hooks["before_node_run"] == 10
    # Kedro's own node objects and catalogs reach the hooks, wherever the node ran.
    node_calls = [call for call in calls if call.get("node") is not None]
    assert all(call["kedro_node"] for call in node_calls)
    assert all(call.get("kedro_catalog", True) for call in calls)
    main_pid = next(c["pid"] for c in calls if c["hook"] == "before_pipeline_run")
    node_pids = {call["pid"] for call in node_calls}
    if runner in ("ParallelRunner", "DaskRunner"):
        assert main_pid not in node_pids, "node hooks must fire in the workers"
    else:
        assert node_pids == {main_pid}


# Every node but the generator node and its consumer: a generator's chunks are saved in order,
# so it cannot run asynchronously (in Kedro's runners either).
NOT_STREAMING = "clean_companies,revenue,fit_model,north.summary,north.report,south.summary"


@pytest.mark.parametrize("runner", ["ThreadRunner", "ParallelRunner"])
def test_async_loads_and_saves_write_the_same_files_and_fire_the_same_hooks(
    runner: str, tmp_path: Path
) -> None:
    # Kedro's own ThreadRunner refuses --async; ductwork's runners all take it. Loads and saves
    # of a node then run concurrently, so its calls are compared as a multiset.
    theirs = Project(tmp_path / "theirs")
    assert theirs.kedro("run", "--nodes", NOT_STREAMING).returncode == 0
    ours = Project(tmp_path / "ours")
    result = ours.kedro("run", runner_arg(runner), "--async", "--nodes", NOT_STREAMING)
    assert result.returncode == 0, result.output
    assert ours.data_files() == theirs.data_files()
    mine, kedros = ours.calls_by_node(), theirs.calls_by_node()
    assert {n: Counter(c) for n, c in mine.items()} == {n: Counter(c) for n, c in kedros.items()}
    assert len(ours.nodes_run()) == 6


@pytest.mark.parametrize("runner", ["SequentialRunner", "ParallelRunner"])
def test_versioned_dataset_is_saved_under_the_sessions_save_version(
    runner: str, tmp_path: Path
) -> None:
    project = Project(tmp_path / "project")
    result = project.kedro("run", runner_arg(runner), *params_for(runner))
    assert result.returncode == 0, result.output
    run_id = next(c["run_id"] for c in project.calls() if c["hook"] == "before_pipeline_run")
    versions = [p.name for p in (project.path / "data/06_models/model.pkl").iterdir()]
    assert versions == [run_id]
    # Each node hook got the session's run id.
    assert {c["run_id"] for c in project.calls() if c["hook"] == "before_node_run"} == {run_id}


def test_generator_node_saves_each_chunk(tmp_path: Path) -> None:
    project = Project(tmp_path / "project")
    result = project.kedro("run", runner_arg("ParallelRunner"), "--pipeline", "data_processing")
    assert result.returncode == 0, result.output
    saves = [
        c
        for c in project.calls()
        if c["hook"] == "after_dataset_saved" and c["dataset"] == "revenue_chunks"
    ]
    clean = pd.read_parquet(project.path / "data/02_intermediate/companies_clean.parquet")
    last = pd.read_csv(project.path / "data/03_primary/revenue_chunks.csv")
    assert len(saves) == -(-len(clean) // 8) > 1  # one save per chunk of 8 rows
    assert last["name"].tolist() == clean["name"].tolist()[8 * (len(saves) - 1) :]
    # The journal names the pipeline the user asked for.
    (journal,) = project.journals()
    assert (journal["pipeline"], journal["pipeline_name"]) == ("data_processing",) * 2


def test_lambda_node_runs_under_processes_where_kedros_runner_refuses(tmp_path: Path) -> None:
    ours = Project(tmp_path / "ours")
    result = ours.kedro(
        "run",
        runner_arg("ParallelRunner"),
        "--pipeline",
        "blocking",
        "--to-outputs",
        "company_count",
    )
    assert result.returncode == 0, result.output
    count = json.loads((ours.path / "data/08_reporting/company_count.json").read_text())
    assert count == {"count": 40}
    assert ours.nodes_run() == {n for n in ours.nodes_run() if n.startswith("<lambda>__")}

    theirs = Project(tmp_path / "theirs")
    refused = theirs.kedro(
        "run", "--runner=ParallelRunner", "--pipeline", "blocking", "--to-outputs", "company_count"
    )
    assert refused.returncode != 0
    assert "cannot be serialised" in refused.output


def test_journal_is_written_under_the_project_and_ductwork_report_reads_it(
    tmp_path: Path,
) -> None:
    project = Project(tmp_path / "project")
    result = project.kedro("run", runner_arg("ParallelRunner"), *params_for("ParallelRunner"))
    assert result.returncode == 0, result.output
    (journal,) = project.journals()
    run_id = next(c["run_id"] for c in project.calls() if c["hook"] == "before_pipeline_run")
    assert journal["run_id"] == run_id
    assert journal["status"] == "success"
    assert journal["runner"] == "kedro:ParallelRunner"
    assert (journal["pipeline"], journal["pipeline_name"]) == ("__default__",) * 2
    assert {entry["status"] for entry in journal["nodes"]} == {"done"}
    assert len(journal["nodes"]) == 10
    # Loads and saves are timed where the nodes ran (the worker processes), as under ductwork run.
    (fit,) = [entry for entry in journal["nodes"] if entry["name"] == "fit_model"]
    assert fit["load_time"] > 0
    assert fit["save_time"] > 0
    assert journal["datasets"]["revenue_table"]["save_time"] > 0
    assert journal["datasets"]["revenue_table"]["loads"] == 1
    # The report tells files from memory: the journal describes the run's datasets.
    table = journal["datasets"]["revenue_table"]
    assert table["persisted"] is True
    assert table["type"].endswith("ExcelDataset")
    assert table["size"] > 0
    assert journal["datasets"]["north.summary"]["persisted"] is False

    report = project.shell("ductwork report")
    assert report.returncode == 0, report.output
    html = (project.path / ".ductwork" / "reports" / f"{run_id}.html").read_text()
    assert "north.report" in html


def _run_on_a_terminal(project: Project, *args: str) -> tuple[int, str]:
    """Run ``kedro ARGS`` with standard error on a pseudo-terminal; return its exit code and
    what it drew there."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [str(BIN / "kedro"), *args],
        cwd=project.path,
        env={**project.env(), "COLUMNS": "120", "TERM": "xterm"},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=follower,
    )
    os.close(follower)
    drawn = bytearray()
    try:
        while True:
            ready, _, _ = select.select([leader], [], [], RUN_TIMEOUT)
            if not ready:
                pytest.fail("kedro run drew nothing for too long")
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closed: the process has ended
                break
            if not chunk:
                break
            drawn += chunk
    finally:
        os.close(leader)
        returncode = process.wait(timeout=RUN_TIMEOUT)
    text = drawn.decode("utf-8", "replace")
    return returncode, re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)  # without colours


def test_live_progress_display_on_a_terminal(tmp_path: Path) -> None:
    project = Project(tmp_path / "project")
    returncode, drawn = _run_on_a_terminal(project, "run", runner_arg("ThreadRunner"))
    assert returncode == 0, drawn
    assert "kedro run (10 nodes)" in drawn  # the live display's title
    assert "\u2714 north.report" in drawn  # a finished node's line

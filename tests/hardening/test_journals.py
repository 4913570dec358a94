"""Findings 2, 5, 8 and the journal parts of 9: what a journal says never steers a path, an
unreadable journal is never skipped in silence, malformed journals are errors naming the file and
the key, a journal that cannot be written fails loudly, and run ids are one file each."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import pytest

from ductwork.exceptions import JournalError
from ductwork.pipeline import Pipeline, node
from ductwork.report.journal import RunJournal, load_journal
from tests.cli.conftest import BASE, calls, journals, run_cli

pytestmark = pytest.mark.timeout(120)

RUNS = ".ductwork/runs"


def _identity(x: int) -> int:
    return x


def _one_node() -> Pipeline:
    return Pipeline([node(_identity, "a", "b", name="n")])


def _journal_file(project: Path, run_id: str) -> Path:
    return project / RUNS / f"{run_id}.json"


def _write_error(journal: RunJournal) -> OSError | None:
    return journal.write_error


def _edit(path: Path, **fields: Any) -> None:
    record = json.loads(path.read_text())
    record.update(fields)
    path.write_text(json.dumps(record))


# --- finding 2: a journal's run_id never picks where a report is written -------------------------


@pytest.mark.parametrize("hostile", ["../../escaped", "{outside}/escaped", "a/b", "x\n"])
def test_a_journals_run_id_never_steers_the_report_path(project: Path, hostile: str) -> None:
    outside = project.parent / "outside"
    hostile = hostile.format(outside=outside)
    assert run_cli(project, "run", "proj:pipeline", *BASE, "--run-id", "r1").returncode == 0
    _edit(_journal_file(project, "r1"), run_id=hostile)
    before = {p for p in project.parent.rglob("*") if p.suffix in {".html", ".json"}}
    result = run_cli(project, "report", "r1")
    assert result.returncode == 2, result.stdout
    assert f"{_journal_file(project, 'r1').relative_to(project)}: 'run_id' must be" in result.stderr
    assert "Traceback" not in result.stderr
    after = {p for p in project.parent.rglob("*") if p.suffix in {".html", ".json"}}
    assert after == before
    assert not outside.exists()


def test_a_report_is_named_after_the_journals_file_not_its_run_id(project: Path) -> None:
    assert run_cli(project, "run", "proj:pipeline", *BASE, "--run-id", "r1").returncode == 0
    _edit(_journal_file(project, "r1"), run_id="r2")
    result = run_cli(project, "report")
    assert result.returncode == 0, result.stderr
    assert [p.name for p in (project / ".ductwork/reports").iterdir()] == ["r1.html"]


def test_the_report_is_named_after_the_journals_file(project: Path) -> None:
    assert run_cli(project, "run", "proj:pipeline", *BASE, "--run-id", "r1").returncode == 0
    result = run_cli(project, "report", "r1", "--format", "chrome-trace")
    assert result.returncode == 0, result.stderr
    assert (project / ".ductwork/reports/r1.trace.json").is_file()


# --- finding 5: --resume never skips an unreadable newer journal ---------------------------------


def test_resume_refuses_when_the_newest_journal_is_unreadable(project: Path) -> None:
    (project / "fail_add").touch()
    assert run_cli(project, "run", "proj:pipeline", *BASE, "--run-id", "old").returncode == 1
    assert run_cli(project, "run", "proj:pipeline", *BASE, "--run-id", "new").returncode == 1
    calls(project)
    _journal_file(project, "new").write_text('{"journal_version": 1, "run_id": "new", "nod')
    result = run_cli(project, "run", "proj:pipeline", *BASE, "--resume")
    assert result.returncode == 2, result.stderr
    assert "Cannot resume: 1 journal(s) newer than the last readable run of proj:pipeline" in (
        result.stderr
    )
    assert "new.json" in result.stderr
    assert "Traceback" not in result.stderr
    assert calls(project) == []


def test_resume_with_only_an_unreadable_journal_does_not_say_nothing_to_resume(
    project: Path,
) -> None:
    (project / "fail_add").touch()
    assert run_cli(project, "run", "proj:pipeline", *BASE, "--run-id", "only").returncode == 1
    calls(project)
    _edit(_journal_file(project, "only"), nodes="not a list")
    result = run_cli(project, "run", "proj:pipeline", *BASE, "--resume")
    assert result.returncode == 2
    assert "newer than any readable run of proj:pipeline" in result.stderr
    assert "'nodes' must be a list of nodes" in result.stderr
    assert "Nothing to resume" not in result.stderr
    assert calls(project) == []


def test_an_older_unreadable_journal_does_not_block_resume(project: Path) -> None:
    (project / "fail_add").touch()
    assert run_cli(project, "run", "proj:pipeline", *BASE, "--run-id", "old").returncode == 1
    assert run_cli(project, "run", "proj:pipeline", *BASE, "--run-id", "new").returncode == 1
    old = _journal_file(project, "old")
    written = old.stat()
    old.write_text("garbage")
    os.utime(old, ns=(written.st_atime_ns, written.st_mtime_ns))  # still the older one
    (project / "fail_add").unlink()
    calls(project)
    result = run_cli(project, "run", "proj:pipeline", *BASE, "--resume")
    assert result.returncode == 0, result.stderr
    assert "add" in calls(project)


# --- finding 8: malformed journals are errors naming the file and the key ------------------------

MALFORMED: list[tuple[str, str]] = [
    ("", "Cannot read the run journal"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ("[]", "not a ductwork run journal"),
    ('{"journal_version": true, "run_id": "bad", "status": "x", "nodes": []}', "journal_version"),
    ('{"journal_version": 1, "status": "x", "nodes": []}', "it has no 'run_id'"),
    ('{"journal_version": 1, "run_id": "bad", "status": 3, "nodes": []}', "'status' must be"),
    ('{"journal_version": 1, "run_id": "bad", "status": "x", "nodes": [1]}', "'nodes[0]' must"),
    (
        '{"journal_version": 1, "run_id": "bad", "status": "x", "nodes": '
        '[{"name": "n", "status": "done", "inputs": [], "outputs": [], "started": "soon"}]}',
        "'nodes[0].started' must be a time",
    ),
    (
        '{"journal_version": 1, "run_id": "bad", "status": "x", "started": NaN, "nodes": []}',
        "'started' must be a time",
    ),
    (
        '{"journal_version": 1, "run_id": "bad", "status": "x", "finished": 1e300, "nodes": []}',
        "'finished' must be a time",
    ),
    (
        '{"journal_version": 1, "run_id": "bad", "status": "x", "nodes": '
        '[{"name": "n", "status": "done", "inputs": [], "outputs": [], "peak_rss": -1}]}',
        "'nodes[0].peak_rss' must be a whole number",
    ),
    (
        '{"journal_version": 1, "run_id": "bad", "status": "x", "nodes": [], '
        '"datasets": {"d": {"persisted": "yes"}}}',
        "'datasets['d'].persisted' must be",
    ),
    (
        '{"journal_version": 1, "run_id": "bad", "status": "x", "nodes": [], '
        '"phases": [{"name": "loading", "started": "early"}]}',
        "'phases[0].started' must be a time",
    ),
    (
        '{"journal_version": 1, "run_id": "bad", "status": "x", "error": "boom", "nodes": []}',
        "'error' must be a mapping",
    ),
    (
        '{"journal_version": 1, "run_id": "bad", "status": "x", "nodes": '
        '[{"name": "n", "status": "done", "inputs": [], "outputs": [], "error": {"type": 1}}]}',
        "'nodes[0].error.type' must be",
    ),
    (
        '{"journal_version": 1, "run_id": "bad", "status": "x", "counts": {"done": "1"}, '
        '"nodes": []}',
        "'counts' must be",
    ),
]


@pytest.mark.parametrize(("text", "message"), MALFORMED)
def test_malformed_journals_are_errors_naming_the_file_and_the_key(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(JournalError, match=r"bad\.json") as caught:
        load_journal(path)
    assert message in str(caught.value)


def test_report_runs_and_resume_on_malformed_journals_never_show_a_traceback(
    project: Path,
) -> None:
    assert run_cli(project, "run", "proj:pipeline", *BASE, "--run-id", "good").returncode == 0
    for number, (text, _) in enumerate(MALFORMED):
        _journal_file(project, f"bad{number}").write_text(text)
    listing = run_cli(project, "runs", "-n", "100")
    assert listing.returncode == 0, listing.stderr
    assert listing.stdout.count("unreadable:") == len(MALFORMED)
    assert "good" in listing.stdout
    for number in range(len(MALFORMED)):
        result = run_cli(project, "report", f"bad{number}")
        assert result.returncode == 2, result.stderr
        assert f"bad{number}.json" in result.stderr
        assert "Traceback" not in result.stderr
    resumed = run_cli(project, "run", "proj:pipeline", *BASE, "--resume")
    assert resumed.returncode == 2
    assert "Traceback" not in resumed.stderr
    assert f"{len(MALFORMED)} journal(s) newer than the last readable run" in resumed.stderr


# --- finding 8: a journal that cannot be written --------------------------------------------------


def test_an_unwritable_journal_folder_fails_before_any_node_runs(project: Path) -> None:
    (project / "blocked").write_text("a file where the journal folder should be")
    result = run_cli(project, "run", "proj:pipeline", *BASE, "--journal-dir", "blocked/runs")
    assert result.returncode == 2, result.stderr
    assert "Cannot write the run journal " in result.stderr
    assert "blocked/runs/" in result.stderr
    assert "Nothing has run." in result.stderr
    assert "Traceback" not in result.stderr
    assert calls(project) == []


BREAK_JOURNAL = """
import shutil
from pathlib import Path
from ductwork.pipeline import Pipeline, node

def first(x):
    # The journal's folder turns into a file: every later journal write fails, as on a full disk.
    runs = Path(__file__).parent / ".ductwork" / "runs"
    shutil.move(runs, runs.with_name("moved"))
    runs.write_text("not a folder")
    return x + 1

def second(y):
    return y * 2

pipeline = Pipeline([node(first, "params:start", "a", name="first"),
                     node(second, "a", "b", name="second")])
"""


def test_a_journal_that_fails_mid_run_is_a_warning_the_run_survives(project: Path) -> None:
    (project / "breaker.py").write_text(BREAK_JOURNAL)
    result = run_cli(project, "run", "breaker:pipeline", "--params", "params.yml")
    assert result.returncode == 0, result.stderr
    assert "Cannot write the run journal" in result.stderr
    assert "the run goes on" in result.stderr
    assert "could not be written" in result.stderr
    assert "does not record how this run ended" in result.stderr
    assert "Traceback" not in result.stderr
    [moved] = list((project / ".ductwork/moved").glob("*.json"))
    assert json.loads(moved.read_text())["status"] == "running"  # what it knew before the fault


def test_the_journal_catches_up_when_writing_works_again(tmp_path: Path) -> None:
    journal = RunJournal(tmp_path / "runs", _one_node(), run_id="r", min_interval=0.0)
    journal.start()
    (tmp_path / "runs").rename(tmp_path / "away")
    (tmp_path / "runs").write_text("blocking file")
    journal.finish("success")
    assert isinstance(_write_error(journal), OSError)
    (tmp_path / "runs").unlink()
    (tmp_path / "away").rename(tmp_path / "runs")
    journal.finish("success")
    assert _write_error(journal) is None
    assert load_journal(journal.path)["status"] == "success"


# --- finding 9: run ids ---------------------------------------------------------------------------


@pytest.mark.parametrize("run_id", ["abc\n", "abc\r", " abc", "abc/..", ".hidden", "a" * 201])
def test_run_ids_that_cannot_name_one_file_are_refused(project: Path, run_id: str) -> None:
    result = run_cli(project, "run", "proj:pipeline", *BASE, "--run-id", run_id)
    assert result.returncode == 2, result.stderr
    assert "cannot name a journal file" in result.stderr
    assert calls(project) == []


def test_runs_started_at_once_with_one_run_id_never_share_a_journal(tmp_path: Path) -> None:
    count = 16
    barrier = threading.Barrier(count, timeout=30)
    outcomes: list[str] = []

    def start() -> None:
        journal = RunJournal(tmp_path, _one_node(), run_id="same")
        barrier.wait()
        try:
            journal.start()
        except JournalError as error:
            outcomes.append(str(error))
        else:
            outcomes.append("started")

    threads = [threading.Thread(target=start) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcomes.count("started") == 1
    assert all("Run id 'same' is taken" in text for text in outcomes if text != "started")
    assert load_journal(tmp_path / "same.json")["run_id"] == "same"
    assert [p.name for p in tmp_path.iterdir()] == ["same.json"]


def test_two_commands_with_one_run_id_one_is_refused(project: Path) -> None:
    assert run_cli(project, "run", "proj:pipeline", *BASE, "--run-id", "r").returncode == 0
    calls(project)
    again = run_cli(project, "run", "proj:pipeline", *BASE, "--run-id", "r")
    assert again.returncode == 2
    assert "is taken" in again.stderr
    assert calls(project) == []
    assert len(journals(project)) == 1

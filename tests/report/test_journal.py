"""RunJournal from Python: what it records, when it writes, and reading journals back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ductwork.exceptions import JournalError, MissingInputsError
from ductwork.io import DataCatalog
from ductwork.pipeline import Pipeline, node
from ductwork.report import RunJournal, find_journal, journal_paths, load_journal, unfinished_nodes
from ductwork.runner import ParallelRunner, RunObserver, SequentialRunner
from tests.report.conftest import EVIL, fan_pipeline, real_journal

pytestmark = pytest.mark.timeout(60)


def test_a_successful_run(tmp_path: Path) -> None:
    journal = real_journal(tmp_path, failing=False)
    on_disk = load_journal(tmp_path / f"{journal['run_id']}.json")
    assert on_disk == json.loads(json.dumps(journal))
    assert on_disk["status"] == "success"
    assert on_disk["pipeline"] == "tests:fan"
    assert on_disk["error"] is None
    assert [n["name"] for n in on_disk["nodes"]] == ["a", "b", "c", "d", "e", "f"]
    assert {n["status"] for n in on_disk["nodes"]} == {"done"}
    assert {n["worker"] for n in on_disk["nodes"]} <= {"ductwork-0", "ductwork-1"}
    assert on_disk["nodes"][4]["inputs"] == ["b_out", "c_out"]
    assert unfinished_nodes(on_disk) == []


def test_a_failed_run_records_the_node_and_its_error(tmp_path: Path) -> None:
    journal = real_journal(tmp_path)
    assert journal["status"] == "failed"
    by_name = {n["name"]: n for n in journal["nodes"]}
    assert by_name["d"]["status"] == "failed"
    assert by_name["d"]["error"]["message"] == EVIL
    assert journal["error"]["node"] == "d"
    assert journal["error"]["type"] == "ValueError"
    # On two threads, independent nodes may or may not have finished before `d` failed.
    assert journal["counts"]["failed"] == 1
    assert {n["status"] for n in journal["nodes"]} <= {"done", "failed", "not run", "interrupted"}
    assert "d" in unfinished_nodes(journal)


def test_ctrl_c_in_a_node_marks_the_run_interrupted(tmp_path: Path) -> None:
    def interrupt(x: int) -> int:
        raise KeyboardInterrupt

    pipeline = Pipeline(
        [node(lambda x: x, "s", "m", name="a"), node(interrupt, "m", "o", name="b")]
    )
    catalog = DataCatalog()
    catalog["s"] = 1
    with pytest.raises(KeyboardInterrupt), RunJournal(tmp_path, pipeline) as journal:
        SequentialRunner().run(pipeline, catalog, observer=journal)
    record = load_journal(journal.path)
    assert record["status"] == "interrupted"
    assert [n["status"] for n in record["nodes"]] == ["done", "interrupted"]


def test_an_error_outside_any_node_is_recorded(tmp_path: Path) -> None:
    pipeline = fan_pipeline()
    with pytest.raises(MissingInputsError), RunJournal(tmp_path, pipeline) as journal:
        SequentialRunner().run(pipeline, DataCatalog(), observer=journal)
    record = load_journal(journal.path)
    assert record["status"] == "error"
    assert record["error"]["node"] is None
    assert "start" in record["error"]["message"]


class CountingJournal(RunJournal):
    writes = 0

    def write(self) -> None:
        type(self).writes += 1
        super().write()


def _chain(length: int) -> Pipeline:
    return Pipeline([node(lambda x: x, f"d{i}", f"d{i + 1}", name=f"n{i}") for i in range(length)])


@pytest.mark.parametrize(("interval", "writes"), [(3600.0, 2), (0.0, 2 + 2 * 20)])
def test_writes_are_throttled(tmp_path: Path, interval: float, writes: int) -> None:
    CountingJournal.writes = 0
    pipeline, catalog = _chain(20), DataCatalog()
    catalog["d0"] = 0
    with CountingJournal(tmp_path, pipeline, min_interval=interval, max_overhead=None) as journal:
        SequentialRunner().run(pipeline, catalog, observer=journal)
    assert CountingJournal.writes == writes


def test_the_file_follows_the_run(tmp_path: Path) -> None:
    seen: list[dict[str, Any]] = []

    def look(x: int) -> int:
        seen.append(load_journal(next(tmp_path.glob("*.json"))))
        return x

    pipeline = Pipeline(
        [node(lambda x: x, "s", "m", name="first"), node(look, "m", "o", name="second")]
    )
    catalog = DataCatalog()
    catalog["s"] = 1
    with RunJournal(tmp_path, pipeline, min_interval=0.0, max_overhead=None) as journal:
        SequentialRunner().run(pipeline, catalog, observer=journal)
    [during] = seen
    assert during["status"] == "running"
    assert [n["status"] for n in during["nodes"]] == ["done", "running"]
    assert [n.name for n in tmp_path.iterdir()] == [journal.path.name], "no temporary files"


def test_skipped_nodes_and_reasons(tmp_path: Path) -> None:
    pipeline = _chain(2)
    journal = RunJournal(
        tmp_path, pipeline, run_id="r1", skipped={"n0": "outputs exist"}, reasons={"n1": "why"}
    )
    assert [(n["status"], n["reason"]) for n in journal.record["nodes"]] == [
        ("skipped", "outputs exist"),
        ("not run", "why"),
    ]
    assert unfinished_nodes(journal.record) == ["n1"]


@pytest.mark.parametrize("run_id", ["../escape", "a/b", ".hidden", "x" * 300])
def test_run_ids_must_name_a_file(tmp_path: Path, run_id: str) -> None:
    with pytest.raises(JournalError, match="cannot name a journal file"):
        RunJournal(tmp_path, _chain(1), run_id=run_id)


def test_reading_journals_back(tmp_path: Path) -> None:
    with pytest.raises(JournalError, match="No run journal"):
        find_journal(tmp_path)
    first = real_journal(tmp_path, failing=False)
    second = real_journal(tmp_path)
    assert [p.stem for p in journal_paths(tmp_path)] == [second["run_id"], first["run_id"]]
    assert find_journal(tmp_path) == tmp_path / f"{second['run_id']}.json"
    assert find_journal(tmp_path, first["run_id"]).stem == first["run_id"]
    (tmp_path / "junk.json").write_text("[1, 2]")
    with pytest.raises(JournalError, match="not a ductwork run journal"):
        load_journal(tmp_path / "junk.json")
    (tmp_path / "future.json").write_text('{"journal_version": 99, "nodes": []}')
    with pytest.raises(JournalError, match="newer ductwork"):
        load_journal(tmp_path / "future.json")
    with pytest.raises(JournalError, match="Cannot read"):
        load_journal(tmp_path / "absent.json")


def spin(x: int) -> int:
    """Burns some CPU (a few million additions)."""
    total = 0
    for i in range(3_000_000):
        total += i
    return x + (total > 0)


def grow(x: int) -> int:
    """Holds 200 MB, written, so that it is resident."""
    block = b"x" * 200_000_000
    return x + len(block[:1])


@pytest.mark.timeout(120)
@pytest.mark.parametrize("runner", ["sequential", "parallel"])
def test_the_journal_records_each_nodes_cpu_time_and_peak_memory(
    tmp_path: Path, runner: str
) -> None:
    pipeline = Pipeline(
        [node(spin, "start", "spun", name="spin"), node(grow, "spun", "grown", name="grow")]
    )
    catalog = DataCatalog()
    catalog["start"] = 1
    chosen = SequentialRunner() if runner == "sequential" else ParallelRunner(max_workers=1)
    with RunJournal(tmp_path, pipeline, runner=runner) as journal:
        chosen.run(pipeline, catalog, observer=journal)
    entries = {entry["name"]: entry for entry in journal.record["nodes"]}
    assert entries["spin"]["cpu_time"] > 0
    assert entries["grow"]["peak_rss"] >= 200_000_000, "measured where the node ran"
    assert all(isinstance(entry["peak_rss"], int) for entry in entries.values())


def test_a_run_without_a_measuring_observer_measures_nothing(tmp_path: Path) -> None:
    pipeline = Pipeline([node(spin, "start", "spun", name="spin")])
    catalog = DataCatalog()
    catalog["start"] = 1
    seen: list[Any] = []

    class Watch(RunObserver):
        def node_finished(self, outcome: Any) -> None:
            seen.append(outcome.metrics)

    SequentialRunner().run(pipeline, catalog, observer=Watch())
    assert seen == [{}]


def test_a_journal_with_a_catalog_records_dataset_kinds_and_sizes(tmp_path: Path) -> None:
    catalog = DataCatalog.from_config(
        {"spun": {"type": "PickleDataset", "filepath": str(tmp_path / "spun.pkl")}}
    )
    catalog["start"] = 1
    pipeline = Pipeline([node(spin, "start", "spun", name="spin")])
    with RunJournal(tmp_path, pipeline, catalog=catalog) as journal:
        SequentialRunner().run(pipeline, catalog, observer=journal)
    datasets = journal.record["datasets"]
    assert datasets["spun"]["persisted"] is True
    assert datasets["spun"]["size"] == (tmp_path / "spun.pkl").stat().st_size
    assert datasets["start"]["persisted"] is False
    assert "size" not in datasets["start"]

"""Journals for the report tests: real ones, from runs in this process, and hostile ones."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ductwork.io import DataCatalog
from ductwork.pipeline import Pipeline, node
from ductwork.report import RunJournal
from ductwork.runner import ThreadRunner

EVIL = "</script><script>alert(1)</script><!-- & \"quoted\" 'single'"


def one(x: int) -> int:
    return x + 1


def fail(x: int) -> int:
    raise ValueError(EVIL)


def fan_pipeline(failing: bool = True) -> Pipeline:
    """A fan-out and fan-in: a -> (b, c, d) -> e, and f after e; d fails when ``failing``."""
    return Pipeline(
        [
            node(one, "start", "a_out", name="a"),
            node(one, "a_out", "b_out", name="b"),
            node(one, "a_out", "c_out", name="c"),
            node(fail if failing else one, "a_out", "d_out", name="d"),
            node(lambda b, c: b + c, ["b_out", "c_out"], "e_out", name="e"),
            node(one, "e_out", "f_out", name="f"),
        ]
    )


def real_journal(directory: Path, failing: bool = True) -> dict[str, Any]:
    """The journal of a real thread-runner run of :func:`fan_pipeline`."""
    pipeline = fan_pipeline(failing)
    catalog = DataCatalog()
    catalog["start"] = 1
    try:
        with RunJournal(directory, pipeline, runner="thread", pipeline_spec="tests:fan") as journal:
            ThreadRunner(max_workers=2).run(
                pipeline, catalog, run_id=journal.run_id, observer=journal
            )
    except ValueError:
        assert failing
    return dict(journal.record)


def hostile_journal() -> dict[str, Any]:
    """A journal whose every string is an attempt to break out of the HTML."""
    error = {"node": EVIL, "type": EVIL, "message": EVIL, "traceback": EVIL}
    nodes = [
        {
            "name": f"{EVIL}{i}",
            "status": status,
            "reason": EVIL,
            "started": 100.0 + i if status != "not run" else None,
            "finished": 100.5 + i if status != "not run" else None,
            "worker": EVIL,
            "error": error if status == "failed" else None,
            "inputs": [f"{EVIL}{i - 1}-out"] if i else [EVIL],
            "outputs": [f"{EVIL}{i}-out"],
            "tags": [EVIL],
            "namespace": None,
        }
        for i, status in enumerate(["done", "failed", "not run", EVIL])
    ]
    return {
        "journal_version": 1,
        "run_id": EVIL,
        "pipeline": EVIL,
        "runner": EVIL,
        "status": EVIL,
        "started": 99.0,
        "finished": 104.0,
        "error": error,
        "command": EVIL,
        "resume_command": EVIL,
        "counts": {EVIL: 1},
        "nodes": nodes,
    }


@pytest.fixture
def failed_journal(tmp_path: Path) -> dict[str, Any]:
    """A real journal of a failed run."""
    return real_journal(tmp_path)

"""Finding 9: an exception whose ``__str__`` raises still fails its own node, with its own type,
on every runner, and is journaled; it is never taken for a lost worker."""

from __future__ import annotations

from pathlib import Path

import pytest

from ductwork.io import DataCatalog, MemoryDataset
from ductwork.pipeline import Pipeline, node
from ductwork.report.journal import error_record
from ductwork.runner import ParallelRunner, SequentialRunner, ThreadRunner
from tests.cli.conftest import journals, run_cli

pytestmark = pytest.mark.timeout(180)


class Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no text for this error")


def fail_unprintably(x: int) -> int:
    raise Unprintable


@pytest.mark.parametrize("runner", [SequentialRunner, ThreadRunner, ParallelRunner])
def test_an_error_whose_str_raises_fails_its_node_with_its_type(runner: type) -> None:
    catalog = DataCatalog({"a": MemoryDataset(1)})
    pipeline = Pipeline([node(fail_unprintably, "a", "b", name="odd")])
    with pytest.raises(Exception) as caught:  # noqa: PT011 - its type is what is checked
        runner().run(pipeline, catalog)
    assert type(caught.value).__name__ in {"Unprintable", "RemoteNodeError"}
    assert "WorkerLost" not in type(caught.value).__name__


def test_the_journal_records_such_an_error() -> None:
    record = error_record(Unprintable(), "odd")
    assert record["message"] == "<str() of the error failed: RuntimeError>"
    assert record["type"].endswith("Unprintable")


PROJECT = """\
from ductwork.pipeline import Pipeline, node

class Unprintable(Exception):
    def __str__(self):
        raise RuntimeError("no text")

def make():
    return 1

def odd(x):
    raise Unprintable

pipeline = Pipeline([node(make, None, "a", name="make"), node(odd, "a", "b", name="odd")])
"""


@pytest.mark.parametrize("runner", ["sequential", "thread", "parallel"])
def test_the_command_reports_such_a_node_as_failed(project: Path, runner: str) -> None:
    (project / "odd.py").write_text(PROJECT)
    result = run_cli(project, "run", "odd:pipeline", "--runner", runner)
    assert result.returncode == 1, result.stderr
    [journal] = journals(project)
    assert journal["status"] == "failed"
    assert journal["error"]["node"] == "odd"
    assert journal["error"]["type"].endswith("Unprintable")

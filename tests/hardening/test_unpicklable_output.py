"""Finding 9: an output that pickles but cannot be unpickled is the failure of the node that
returned it, on every runner that sends data to another process; the node reading it never
runs, and is never blamed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import journals, run_cli, runner_params, statuses

pytestmark = pytest.mark.timeout(180)

PROJECT = """\
from ductwork.pipeline import Pipeline, node

def _refuse():
    raise RuntimeError("this object cannot be rebuilt")

class OneWay:
    def __reduce__(self):
        return (_refuse, ())

def make():
    return 1

def one_way(x):
    return OneWay()

def after(y):
    return y

pipeline = Pipeline([node(make, None, "a", name="make"), node(one_way, "a", "b", name="bad"),
                     node(after, "b", "c", name="after")])
"""


@pytest.mark.parametrize("runner", runner_params("parallel", "dask"))
def test_an_output_that_cannot_be_unpickled_fails_the_node_that_returned_it(
    project: Path, runner: str
) -> None:
    (project / "oneway.py").write_text(PROJECT)
    result = run_cli(project, "run", "oneway:pipeline", "--runner", runner, timeout=150)
    assert result.returncode == 1, result.stderr
    [journal] = journals(project)
    assert journal["status"] == "failed"
    assert journal["error"]["node"] == "bad", journal["error"]
    assert statuses(journal) == {"make": "done", "bad": "failed", "after": "not run"}
    assert "this object cannot be rebuilt" in journal["error"]["message"]
    assert "Node 'bad' failed" in result.stderr

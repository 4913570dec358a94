"""``ductwork run --runner parallel`` starts the fork server before loading the project.

The server imports the pipeline's module (and what it imports) while the command loads the
project, so the run's workers are forks of a process that has it: they never import it
themselves. A module that breaks when the server imports it does not break the server.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.cli.conftest import run_cli, runner_params

pytestmark = pytest.mark.timeout(180)

# Each import of the pipeline's module leaves the importing process's id in imports/.
PIPELINE_MODULE = """\
import os
from pathlib import Path

from ductwork.pipeline import Pipeline, node

Path("imports", str(os.getpid())).touch()


def double(x):
    return 2 * x


def add(a, b):
    return a + b


pipeline = Pipeline(
    [
        node(double, "params:start", "left", name="left"),
        node(double, "params:start", "right", name="right"),
        node(add, ["left", "right"], "total", name="add"),
    ]
)
"""


@pytest.mark.parametrize("runner", runner_params("parallel"))
def test_the_workers_fork_from_a_server_that_imported_the_project(
    tmp_path: Path, runner: str
) -> None:
    (tmp_path / "early_pipeline.py").write_text(PIPELINE_MODULE)
    (tmp_path / "catalog.yml").write_text("total: {type: PickleDataset, filepath: total.pkl}\n")
    (tmp_path / "params.yml").write_text("start: 5\n")
    (tmp_path / "imports").mkdir()
    result = run_cli(
        tmp_path,
        "run",
        "early_pipeline:pipeline",
        "--runner",
        runner,
        "--max-workers",
        "2",
        "--catalog",
        "catalog.yml",
        "--params",
        "params.yml",
        "--journal-dir",
        "journal",
    )
    assert result.returncode == 0, result.stderr
    (path,) = (tmp_path / "journal").glob("*.json")
    journal = json.loads(path.read_text())
    workers = {int(n["worker"].removeprefix("pid ")) for n in journal["nodes"]}
    importers = {int(p.name) for p in (tmp_path / "imports").iterdir()}
    assert journal["pid"] in importers  # the command itself
    assert len(workers) == 2
    assert not importers & workers  # forks of the server, which imported it
    assert len(importers) == 2  # the command, and the fork server


SCRIPT = """\
import os, sys
from pathlib import Path

from ductwork.io import DataCatalog, MemoryDataset
from ductwork.pipeline import Pipeline, node
from ductwork.runner import ParallelRunner
from ductwork.cli.fork_server import start_fork_server


def probe_loaded(_x):
    return ("early_probe" in sys.modules, os.getpid())


if __name__ == "__main__":
    sys.path.insert(0, os.getcwd())
    assert start_fork_server(["early_broken", "early_probe"], ["NoSuchDataset", "PickleDataset"])
    assert not start_fork_server(["early_probe"])  # the server runs: it stays as it is
    pipeline = Pipeline([node(probe_loaded, "x", "y", name="probe")])
    catalog = DataCatalog({"x": MemoryDataset(1)})
    loaded, worker = ParallelRunner(max_workers=1).run(pipeline, catalog)["y"].load()
    importers = {int(p.name) for p in Path("imports").iterdir()}
    print(loaded, worker in importers, os.getpid() in importers, len(importers))
"""


def test_a_module_that_fails_in_the_server_leaves_it_serving(tmp_path: Path) -> None:
    (tmp_path / "imports").mkdir()
    (tmp_path / "early_probe.py").write_text(
        'import os\nfrom pathlib import Path\nPath("imports", str(os.getpid())).touch()\n'
    )
    (tmp_path / "early_broken.py").write_text('raise RuntimeError("broken on import")\n')
    (tmp_path / "script.py").write_text(textwrap.dedent(SCRIPT))
    result = subprocess.run(
        [sys.executable, "script.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    # The worker has the module without importing it; only the server imported it.
    assert result.stdout.split() == ["True", "False", "False", "1"]

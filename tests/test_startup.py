"""Start-up costs: what ``import ductwork`` and a worker process import.

Each check runs in a fresh interpreter, as a user's program or a worker would start.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("pandas", "numpy", "dask", "distributed", "pyarrow", "rich", "click")


def imported_by(code: str) -> set[str]:
    """The modules a fresh interpreter has imported after running ``code``."""
    script = f"import sys\n{code}\nimport json\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_import_ductwork_loads_the_public_names_on_first_use() -> None:
    modules = imported_by("import ductwork")
    assert {m for m in modules if m.startswith("ductwork.")} == set()
    assert not {"pluggy", "multiprocessing", "cloudpickle", *HEAVY} & modules
    modules = imported_by("from ductwork import Pipeline, node")
    assert "ductwork.pipeline" in modules
    assert "ductwork.runner" not in modules


def test_a_worker_of_a_plain_pipeline_imports_no_data_library() -> None:
    code = (
        "from ductwork import DataCatalog, ParallelRunner, Pipeline, node\n"
        "from tests.startup_helpers import loaded_modules\n"
        "if __name__ == '__main__':\n"
        "    pipeline = Pipeline([node(loaded_modules, 'x', 'modules')])\n"
        "    result = ParallelRunner(max_workers=1).run(pipeline, DataCatalog({'x': 1}))\n"
        "    print('WORKER', json.dumps(result['modules'].load()))\n"
    )
    script = f"import json\n{code}"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    line = next(x for x in done.stdout.splitlines() if x.startswith("WORKER "))
    worker_modules = set(json.loads(line.removeprefix("WORKER ")))
    assert "ductwork.runner.processes.worker" in worker_modules  # it did run in a worker
    assert {m.split(".")[0] for m in worker_modules} & set(HEAVY) == set()


def test_the_commands_help_loads_neither_the_runners_nor_rich() -> None:
    code = (
        "from ductwork.cli import main\n"
        "try:\n"
        "    main(['run', '--help'])\n"
        "except SystemExit:\n"
        "    pass"
    )
    modules = imported_by(code)
    assert "click" in modules
    assert not {"rich", "yaml", "pluggy", "ductwork.runner", "ductwork.io"} & modules


def test_the_worker_module_imports_neither_the_runners_nor_the_parent_side() -> None:
    # What the fork server preloads: the worker, without the runners (Dask's included), the run
    # loop, or the executor and pool that only the parent uses.
    modules = imported_by("import ductwork.runner.processes.worker")
    parent_side = {
        "ductwork.runner.runner",
        "ductwork.runner.loop",
        "ductwork.runner.dask_runner",
        "ductwork.runner.parallel_runner",
        "ductwork.runner.thread_runner",
        "ductwork.runner.processes.executor",
        "ductwork.runner.processes.pool",
        "ductwork.runner.processes.handle",
    }
    assert "ductwork.execution.shell" in modules  # it did import the worker
    assert not parent_side & modules
    assert not {"dask", "distributed", "rich", "click", "yaml"} & modules
    assert not {"pluggy", "importlib.metadata"} & modules  # only a run with plugins needs them


def test_the_runner_package_loads_each_name_on_first_use() -> None:
    modules = imported_by("from ductwork.runner import RunObserver, SequentialRunner")
    assert {"ductwork.runner.loop", "ductwork.runner.sequential_runner"} <= modules
    assert not {"ductwork.runner.dask_runner", "ductwork.runner.processes"} & modules
    modules = imported_by("import ductwork.runner as r; assert r.ParallelRunner.__name__")
    assert "ductwork.runner.processes.executor" in modules


_FORK_SERVER_SCRIPT = """
import json, os, sys, threading
from multiprocessing import forkserver
from ductwork import DataCatalog, ParallelRunner, Pipeline, node
from tests.startup_helpers import loaded_modules
if __name__ == "__main__":
    if sys.argv[1] == "thread":  # a second thread: the server must be a fresh interpreter
        threading.Thread(target=threading.Event().wait, daemon=True).start()
    read_end, write_end = os.pipe()  # open before the server starts
    pipeline = Pipeline([node(loaded_modules, "x", "modules")])
    result = ParallelRunner(max_workers=1).run(pipeline, DataCatalog({"x": 1}))
    os.close(write_end)
    ended = os.read(read_end, 1) == b""  # blocks if another process holds the write end
    pid = forkserver._forkserver._forkserver_pid
    with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
        fresh = b"forkserver " + b"import main" in cmdline.read()  # multiprocessing's command
    print("SERVER", json.dumps({"fresh": fresh, "pipe_ended": ended}))
"""


@pytest.mark.skipif(sys.platform != "linux", reason="the fork server is forked on Linux only")
@pytest.mark.parametrize("threads", ["one", "thread"])
def test_the_fork_server_is_a_fork_of_a_one_thread_parent_holding_none_of_its_files(
    threads: str,
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _FORK_SERVER_SCRIPT, threads],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    line = next(x for x in done.stdout.splitlines() if x.startswith("SERVER "))
    server = json.loads(line.removeprefix("SERVER "))
    assert server["fresh"] is (threads == "thread")
    assert server["pipe_ended"]  # the forked server let go of the parent's descriptors

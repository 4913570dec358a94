"""Finding 9: worker processes die with their parent, even in the middle of a node."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(120)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads process states from /proc")
@pytest.mark.parametrize("start_method", ["fork", "forkserver", "spawn"])
@pytest.mark.parametrize("kill", [signal.SIGKILL, signal.SIGTERM])
def test_a_worker_mid_node_dies_with_its_parent(
    project: Path, start_method: str, kill: signal.Signals
) -> None:
    handshake = project / "handshake"
    os.mkfifo(handshake / "started")
    os.mkfifo(handshake / "release")
    # The library, not the command, so that SIGTERM is not handled as Ctrl-C: the parent dies.
    script = (
        "import sys\n"
        "sys.path.insert(0, '.')\n"
        "import proj\n"
        "from pathlib import Path\n"
        "from ductwork.cli.project import param_datasets\n"
        "from ductwork.io import SharedMemoryDataCatalog\n"
        "from ductwork.io.safe_yaml import load_yaml_file\n"
        "from ductwork.runner import ParallelRunner\n"
        "catalog = SharedMemoryDataCatalog.from_config(load_yaml_file(Path('catalog.yml')))\n"
        "params = load_yaml_file(Path('params.yml'))\n"
        "for k, v in param_datasets(params).items(): catalog[k] = v\n"
        f"runner = ParallelRunner(max_workers=1, mp_context={start_method!r})\n"
        "runner.run(proj.interruptible, catalog)\n"
    )
    process = subprocess.Popen([sys.executable, "-c", script], cwd=project)
    try:
        with open(handshake / "started", encoding="utf-8") as started:
            worker = int(started.read())
        assert worker != process.pid
        process.send_signal(kill)
        process.wait(timeout=30)
        deadline = time.monotonic() + 30
        while _alive(worker) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(worker), "the worker outlived its parent"
    finally:
        process.kill()
        process.wait()

"""Helpers for the command-line tests: a project folder, and the real command in a subprocess."""

from __future__ import annotations

import errno
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ductwork.cli.runners import RUNNER_NAMES, runner_available

TEMPLATE = Path(__file__).with_name("project_template.py")
CATALOG = """\
raw: {type: PickleDataset, filepath: data/raw.pkl}
total: {type: PickleDataset, filepath: data/total.pkl}
summary: {type: TextDataset, filepath: data/summary.txt}
gated: {type: PickleDataset, filepath: data/gated.pkl}
final: {type: PickleDataset, filepath: data/final.pkl}
"""
BASE = ["--catalog", "catalog.yml", "--params", "params.yml"]
PROG = "python -m ductwork.cli"

_WHY_MISSING = {
    "parallel": "ParallelRunner is not on this branch yet (issue 5): this test runs once it is",
    "dask": "DaskRunner or dask is not installed (issue 6, extra 'dask'): this test runs with it",
}


def _usable(name: str) -> bool:
    if name == "dask" and importlib.util.find_spec("distributed") is None:
        return False
    return runner_available(name)


def runner_params(*names: str) -> list[Any]:
    """Runner names as pytest params; an unavailable runner is skipped, saying why."""
    return [
        pytest.param(
            name, marks=pytest.mark.skipif(not _usable(name), reason=_WHY_MISSING.get(name, ""))
        )
        for name in names or RUNNER_NAMES
    ]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project folder: ``proj.py``, ``catalog.yml``, ``params.yml`` and a handshake folder."""
    shutil.copy(TEMPLATE, tmp_path / "proj.py")
    (tmp_path / "catalog.yml").write_text(CATALOG)
    handshake = tmp_path / "handshake"
    handshake.mkdir()
    (tmp_path / "params.yml").write_text(
        f"start: 1\nnested:\n  factor: 3\nhandshake: {json.dumps(str(handshake))}\n"
    )
    return tmp_path


def command(*args: str) -> list[str]:
    """The ``ductwork`` command line, as this interpreter runs it."""
    return [sys.executable, "-m", "ductwork.cli", *args]


def run_cli(cwd: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``ductwork *args`` in ``cwd``; never raises on a non-zero exit."""
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(
        command(*args),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )


def calls(project: Path) -> list[str]:
    """The nodes that ran, in order, and forget them."""
    log = project / "calls.log"
    if not log.exists():
        return []
    names = log.read_text().split()
    log.unlink()
    return names


def journals(project: Path, folder: str = ".ductwork/runs") -> list[dict[str, Any]]:
    """Every journal in ``folder``, oldest first."""
    paths = sorted((project / folder).glob("*.json"), key=lambda p: p.stat().st_mtime_ns)
    return [json.loads(path.read_text()) for path in paths]


def statuses(journal: dict[str, Any]) -> dict[str, str]:
    """Node name -> status."""
    return {entry["name"]: entry["status"] for entry in journal["nodes"]}


def release(fifo: Path) -> None:
    """Let the node waiting on ``fifo`` go, if one still waits (never blocks)."""
    try:
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    except OSError as error:
        if error.errno == errno.ENXIO:  # no reader: the node was stopped
            return
        raise
    try:
        os.write(fd, b"go")
    except BrokenPipeError:
        pass
    finally:
        os.close(fd)


def stop_running_command(
    process: subprocess.Popen[str], signum: int, said: str, fifo: Path, timeout: float
) -> str:
    """Send ``signum`` to ``process``, wait until its stderr says ``said`` (or it ends), let a
    node still waiting on ``fifo`` go (a node on a thread cannot be stopped), and return all
    of its stderr once it has ended."""
    process.send_signal(signum)
    assert process.stderr is not None
    lines = []
    for line in process.stderr:
        lines.append(line)
        if said in line:
            break
    release(fifo)
    _, rest = process.communicate(timeout=timeout)
    return "".join(lines) + rest

"""Running ``kedro run`` in a copy of the fixture project, as a user would, and reading what it
wrote: the data files, the hook record and ductwork's journal."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

import kedro

FIXTURE = Path(__file__).parent / "project"
BIN = Path(sys.executable).parent
KEDRO_VERSION = tuple(int(part) for part in kedro.__version__.split(".")[:2])
# --runner-params arrived in Kedro 1.6.
HAS_RUNNER_PARAMS = KEDRO_VERSION >= (1, 6)
RUNNERS = ("SequentialRunner", "ThreadRunner", "ParallelRunner", "DaskRunner")
RUN_TIMEOUT = 240  # seconds for one `kedro run` on a busy 2-core machine


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


class Project:
    """A fresh copy of the fixture project in ``path``."""

    def __init__(self, path: Path) -> None:
        shutil.copytree(FIXTURE, path, ignore=shutil.ignore_patterns("__pycache__"))
        self.path = path
        self.record = path / "hooks.jsonl"

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "DWFIXTURE_HOOK_RECORD": str(self.record),
            "KEDRO_DISABLE_TELEMETRY": "true",
            "DO_NOT_TRACK": "1",
        }

    def kedro(self, *args: str, timeout: float = RUN_TIMEOUT) -> Result:
        """Run ``kedro ARGS`` in the project; the hook record starts empty."""
        return self._run([str(BIN / "kedro"), *args], timeout)

    def shell(self, command: str, timeout: float = RUN_TIMEOUT) -> Result:
        """Run a pasted command line in the project, through a shell."""
        return self._run(["bash", "-c", command], timeout)

    def _run(self, argv: list[str], timeout: float) -> Result:
        self.record.unlink(missing_ok=True)
        done = subprocess.run(
            argv,
            cwd=self.path,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return Result(done.returncode, done.stdout, done.stderr)

    def calls(self) -> list[dict[str, Any]]:
        """The hook calls of the last run, in the order they were recorded."""
        if not self.record.exists():
            return []
        lines = self.record.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines]

    def calls_by_node(self) -> dict[str | None, list[str]]:
        """Each node's hook calls, in order, without what differs from run to run."""
        by_node: dict[str | None, list[str]] = defaultdict(list)
        for call in self.calls():
            stable = {k: v for k, v in call.items() if k not in ("pid", "run_id")}
            by_node[stable.get("node")].append(json.dumps(stable, sort_keys=True))
        return dict(by_node)

    def nodes_run(self) -> set[str]:
        return {c["node"] for c in self.calls() if c["hook"] == "before_node_run"}

    def data_files(self) -> dict[str, str]:
        """Each file under data/, by path (a versioned dataset's version as <version>), with a
        digest of its bytes (of an Excel file, of its cells: the file holds its write time)."""
        found = {}
        for path in sorted((self.path / "data").rglob("*")):
            if path.is_file():
                parts = list(path.relative_to(self.path).parts)
                if "model.pkl" in parts[:-1]:
                    parts[parts.index("model.pkl") + 1] = "<version>"
                found["/".join(parts)] = hashlib.sha256(_content(path)).hexdigest()
        return found

    def journals(self) -> list[dict[str, Any]]:
        runs = self.path / ".ductwork" / "runs"
        paths = sorted(runs.glob("*.json")) if runs.exists() else []
        return [json.loads(path.read_text(encoding="utf-8")) for path in paths]


def _content(path: Path) -> bytes:
    if path.suffix != ".xlsx":
        return path.read_bytes()
    sheets = pd.read_excel(path, sheet_name=None)
    return json.dumps(
        {name: sheet.to_dict(orient="split") for name, sheet in sheets.items()}, default=str
    ).encode()


def runner_arg(name: str) -> str:
    return f"--runner=ductwork.kedro.{name}"


def dask_params() -> list[str]:
    """A small embedded cluster where --runner-params exists (the default otherwise)."""
    return ["--runner-params", "n_workers=2"] if HAS_RUNNER_PARAMS else []


def params_for(name: str) -> list[str]:
    if name == "DaskRunner":
        return dask_params()
    if name in ("ThreadRunner", "ParallelRunner") and HAS_RUNNER_PARAMS:
        return ["--runner-params", "max_workers=2"]
    return []

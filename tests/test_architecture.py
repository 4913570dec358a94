"""The layers of ductwork import only downwards, and the public surface is pinned.

Layers (see the architecture notes): the pipeline model and the catalog know nothing of each
other or of running; scheduling is pure and sees only the pipeline model; execution runs one
node; runners drive execution; the command line and report sit on top.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import types
from pathlib import Path

import pytest

import ductwork
import ductwork.cli
import ductwork.hooks
import ductwork.report
import ductwork.runner

SRC = Path(ductwork.__file__).parent

# package -> the ductwork packages it may import (besides itself and ductwork.exceptions)
ALLOWED: dict[str, set[str]] = {
    "pipeline": set(),
    "io": set(),
    "hooks": set(),
    "config": {"io"},
    "datasets": {"io"},
    "scheduling": {"pipeline"},
    "execution": {"pipeline", "io", "hooks"},
    "incremental": {"pipeline", "io"},
    "runner": {"pipeline", "io", "hooks", "scheduling", "execution", "incremental"},
    "report": {"pipeline", "io", "hooks", "scheduling", "execution", "runner", "incremental"},
    "cli": {
        "pipeline",
        "io",
        "hooks",
        "config",
        "datasets",
        "scheduling",
        "execution",
        "runner",
        "report",
        "incremental",
    },
    # The Kedro edge: adapts Kedro's objects, then uses ductwork like any caller.
    "kedro": {
        "pipeline",
        "io",
        "hooks",
        "scheduling",
        "execution",
        "runner",
        "report",
        "cli",
        "incremental",
    },
}


def ductwork_imports(path: Path) -> set[str]:
    """The ductwork packages a module imports, at any depth of the module."""
    found = set()
    for item in ast.walk(ast.parse(path.read_text())):
        names: list[str] = []
        if isinstance(item, ast.Import):
            names = [alias.name for alias in item.names]
        elif isinstance(item, ast.ImportFrom) and item.module and item.level == 0:
            names = [item.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "ductwork" and len(parts) > 1:
                found.add(parts[1])
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_layers_import_only_downwards(package: str) -> None:
    offenders = {}
    for path in sorted((SRC / package).rglob("*.py")):
        extra = ductwork_imports(path) - ALLOWED[package] - {package, "exceptions"}
        if extra:
            offenders[str(path.relative_to(SRC))] = sorted(extra)
    assert offenders == {}


def test_top_level_surface() -> None:
    assert sorted(ductwork.__all__) == sorted(
        [
            "AbstractRunner",
            "DaskRunner",
            "DataCatalog",
            "DatasetError",
            "DuctworkError",
            "MemoryDataset",
            "Node",
            "ParallelRunner",
            "Pipeline",
            "PipelineError",
            "RunnerError",
            "SequentialRunner",
            "SharedMemoryDataCatalog",
            "ThreadRunner",
            "__version__",
            "create_hook_manager",
            "hook_impl",
            "node",
        ]
    )
    for name in ductwork.__all__:
        assert hasattr(ductwork, name), name
    assert isinstance(ductwork.pipeline, types.ModuleType), "a name hides the module"


def test_runner_surface() -> None:
    assert sorted(ductwork.runner.__all__) == [
        "AbstractRunner",
        "DaskRunner",
        "MissingInputsError",
        "NodeOutcome",
        "NotPicklableError",
        "ParallelRunner",
        "RemoteNodeError",
        "RunObserver",
        "RunnerError",
        "SequentialRunner",
        "ThreadRunner",
        "WorkerLostError",
    ]


def test_report_surface() -> None:
    assert sorted(ductwork.report.__all__) == [
        "DEFAULT_DIRECTORY",
        "JournalError",
        "RunJournal",
        "find_journal",
        "journal_paths",
        "load_journal",
        "render_chrome_trace",
        "render_html",
        "unfinished_nodes",
    ]


def test_cli_surface() -> None:
    assert ductwork.cli.__all__ == ["main"]


def test_process_machinery_is_a_runner_package() -> None:
    # The worker side runs nodes through ductwork.execution like every runner; it sits in
    # the runner layer and is not part of the public surface.
    import ductwork.runner.processes

    assert ductwork.runner.processes.__all__ == ["ProcessExecutor"]
    assert "processes" not in ductwork.runner.__all__


def test_hooks_surface() -> None:
    assert sorted(ductwork.hooks.__all__) == ["create_hook_manager", "hook_impl", "hook_spec"]


def test_import_is_light_and_configures_no_logging() -> None:
    code = (
        "import logging, sys, ductwork, ductwork.runner, ductwork.io, ductwork.datasets\n"
        "import ductwork.report, ductwork.cli, ductwork.config\n"
        "heavy = sorted(m for m in ('dask', 'distributed', 'pandas', 'numpy', 'pyarrow', 'rich',"
        " 'click', 'xxhash', 'sqlite3', 'ductwork.incremental', 'omegaconf') if m in sys.modules)\n"
        "print(heavy, logging.getLogger().handlers)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[] []"

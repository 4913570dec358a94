"""The mutation suite: a project changed one way, run again; exactly the right nodes re-run.

Every case starts from a copy of a project whose incremental run has succeeded twice (the second
run skipped every node), changes one thing (``mutations.MUTATIONS``), and runs incrementally
again under each runner. It asserts the exact set of nodes that ran, the reason given for them,
and, so that no skip can hide a stale result, that every persisted output equals what a plain
run of the changed project from scratch produces.
"""

from __future__ import annotations

import importlib
import shutil
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ductwork.incremental import IncrementalResult, run_incremental
from ductwork.runner import (
    AbstractRunner,
    DaskRunner,
    ParallelRunner,
    SequentialRunner,
    ThreadRunner,
)
from tests.incremental.mutations import BASE, MUTATIONS, NODES, OUTPUTS, Mutation

pytestmark = pytest.mark.timeout(300)
STORE = ".ductwork/cache.sqlite"


class _DaskInProcess:
    """A Dask cluster whose worker threads live in this process (they see the edited code)."""

    def __init__(self) -> None:
        self._opened: list[Any] = []

    def runner(self) -> AbstractRunner:
        if not self._opened:
            from distributed import Client, LocalCluster

            cluster = LocalCluster(
                processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None
            )
            self._opened = [cluster, Client(cluster, set_as_default=False)]
        return DaskRunner(client=self._opened[1])

    def close(self) -> None:
        for opened in reversed(self._opened):
            opened.close()
        self._opened.clear()


DASK = _DaskInProcess()
RUNNERS: dict[str, Callable[[], AbstractRunner]] = {
    "sequential": SequentialRunner,
    "thread": lambda: ThreadRunner(4),
    # spawn: every run's workers import the project afresh, from this process's sys.path.
    "parallel": lambda: ParallelRunner(2, mp_context="spawn"),
    "dask": DASK.runner,
}
# Every runner hashes a node's in-memory outputs where the node ran (in this process, in a
# worker process, on a Dask worker), so early cut-off works through in-memory data on each:
# the cases' re-run sets (``seen``, where a case gives one) are the same on every runner.
SEES_IN_MEMORY_OUTPUTS = set(RUNNERS)


def _modules_of(root: Path) -> set[str]:
    return {path.stem if path.is_file() else path.name for path in root.iterdir()}


def load_project(root: Path) -> tuple[Any, Any]:
    """Import the project at ``root`` afresh; its pipeline and catalog."""
    for name in list(sys.modules):
        if name.partition(".")[0] in ("proj", "fakepkg"):
            del sys.modules[name]
    while str(root) in sys.path:
        sys.path.remove(str(root))
    sys.path = [p for p in sys.path if not p.endswith(("/base", "/case", "/oracle"))]
    sys.path.insert(0, str(root))
    importlib.invalidate_caches()
    module = importlib.import_module("proj.pipeline")
    return module.make_pipeline(), module.make_catalog()


def write_base(root: Path) -> None:
    for relative, text in BASE.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip() if "\n" in text.strip() else text)


def run(runner: AbstractRunner, root: Path) -> IncrementalResult:
    pipeline, catalog = load_project(root)
    # As the command line does: in-memory free outputs are not wanted back.
    return run_incremental(runner, pipeline, catalog, store=root / STORE, need_memory_outputs=False)


@pytest.fixture(scope="module", autouse=True)
def _isolated() -> Iterator[None]:
    saved_path, saved_bytecode = list(sys.path), sys.dont_write_bytecode
    sys.dont_write_bytecode = True
    yield
    sys.path[:] = saved_path
    sys.dont_write_bytecode = saved_bytecode
    for name in list(sys.modules):
        if name.partition(".")[0] in ("proj", "fakepkg"):
            del sys.modules[name]
    DASK.close()


@pytest.fixture(scope="module", params=list(RUNNERS))
def baseline(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, Path]:
    """A project run twice under one runner: everything ran, then nothing."""
    name: str = request.param
    root = tmp_path_factory.mktemp(name) / "base"
    write_base(root)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        first = run(RUNNERS[name](), root)
        assert sorted(first.ran) == sorted(NODES)
        second = run(RUNNERS[name](), root)
        assert second.ran == []
        assert sorted(second.skipped) == sorted(NODES)
    return name, root


def expected_outputs(case: Path, oracle: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """What a plain (not incremental) run of the changed project writes."""
    shutil.copytree(case, oracle)
    monkeypatch.chdir(oracle)
    shutil.rmtree(oracle / ".ductwork")
    for name in OUTPUTS:
        (oracle / "data" / f"{name}.json").unlink(missing_ok=True)
    pipeline, catalog = load_project(oracle)
    SequentialRunner().run(pipeline, catalog)
    return read_outputs(oracle)


def read_outputs(root: Path) -> dict[str, str]:
    return {path.name: path.read_text() for path in sorted((root / "data").glob("*.json"))}


@pytest.mark.parametrize("mutation", MUTATIONS, ids=[m.name for m in MUTATIONS])
def test_mutation(
    baseline: tuple[str, Path], mutation: Mutation, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner_name, base = baseline
    case = tmp_path / "case"
    shutil.copytree(base, case)
    mutation.change(case)
    expected = expected_outputs(case, tmp_path / "oracle", monkeypatch)
    monkeypatch.chdir(case)

    result = run(RUNNERS[runner_name](), case)

    # First: no skip hid a stale result (every output as a plain run of the changed project).
    produced = read_outputs(case)
    assert {name: produced.get(name) for name in expected} == expected
    # Then exactly what re-ran, and why.
    expected_runs = mutation.reruns
    if runner_name in SEES_IN_MEMORY_OUTPUTS and mutation.reruns_seen is not None:
        expected_runs = mutation.reruns_seen
    decisions = result.planner.decisions
    assert set(result.ran) == expected_runs, "; ".join(
        f"{name} {d.action}: {d.reason}" for name, d in decisions.items()
    )
    for node, text in mutation.reason.items():
        assert text in decisions[node].reason, decisions[node].reason
    # And the next run, with nothing changed, runs only what can never be skipped.
    again = run(RUNNERS[runner_name](), case)
    never_cached = {n for n, d in decisions.items() if d.reason == "not cacheable (declared)"}
    assert set(again.ran) == never_cached

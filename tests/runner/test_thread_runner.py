"""What is particular to ThreadRunner: its worker count and real concurrency."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from ductwork.io import DataCatalog, MemoryDataset
from ductwork.pipeline import Pipeline, node
from ductwork.runner import ThreadRunner
from tests.runner.helpers import identity

pytestmark = pytest.mark.timeout(60)


@pytest.mark.parametrize("bad", [0, -1])
def test_non_positive_max_workers_is_refused(bad: int) -> None:
    with pytest.raises(ValueError, match="max_workers should be positive"):
        ThreadRunner(max_workers=bad)


def test_default_worker_count_is_the_cpu_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: 7)
    assert ThreadRunner()._max_workers == 7


def test_worker_count_is_capped_by_what_can_run_at_once() -> None:
    fan = Pipeline(
        [node(identity, "x", f"m{i}", name=f"spread{i}") for i in range(3)]
        + [node(lambda *a: sum(a), [f"m{i}" for i in range(3)], "out", name="gather")]
    )
    assert ThreadRunner(max_workers=16)._get_required_workers_count(fan) == 3
    assert ThreadRunner(max_workers=2)._get_required_workers_count(fan) == 2


def test_independent_nodes_really_run_at_the_same_time() -> None:
    # Each node waits at a barrier for all the others: the run only finishes if all 16 run
    # concurrently; otherwise the barrier times out and the nodes fail.
    barrier = threading.Barrier(16, timeout=20)

    def meet(x: Any) -> Any:
        barrier.wait()
        return x

    pipeline = Pipeline([node(meet, "x", f"out{i}", name=f"meet{i}") for i in range(16)])
    outputs = ThreadRunner(max_workers=16).run(pipeline, DataCatalog({"x": MemoryDataset(1)}))
    assert {ds.load() for ds in outputs.values()} == {1}


def test_async_mode_is_supported_without_warning(recwarn: pytest.WarningsRecorder) -> None:
    pipeline = Pipeline([node(identity, "x", "y")])
    ThreadRunner(is_async=True).run(pipeline, DataCatalog({"x": MemoryDataset(1)}))
    assert not [w for w in recwarn if issubclass(w.category, UserWarning)]

"""The catalog under many threads: factory patterns, lazy entries, saves and loads at once.

Threads start together on a Barrier; every wait has a timeout and the tests run under
pytest-timeout, so a deadlock fails instead of hanging.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from ductwork.io import AbstractDataset, DataCatalog, SharedMemoryDataCatalog
from tests.io.conftest import CountingDataset

THREADS = 16
WAIT = 10.0  # seconds; only reached if something is broken


def _run_together(work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(i)`` on THREADS threads released at the same instant; return the results."""
    barrier = threading.Barrier(THREADS, timeout=WAIT)

    def start(index: int) -> Any:
        barrier.wait()
        return work(index)

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        futures = [pool.submit(start, i) for i in range(THREADS)]
        return [future.result(timeout=WAIT) for future in futures]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("catalog_class", [DataCatalog, SharedMemoryDataCatalog])
def test_concurrent_save_load_through_factory_patterns(
    tmp_path: Path, catalog_class: type[DataCatalog]
) -> None:
    catalog = catalog_class.from_config(
        {
            "{name}_pkl": {"type": "pickle.PickleDataset", "filepath": f"{tmp_path}/{{name}}.pkl"},
            "{name}_json": {"type": "json.JSONDataset", "filepath": f"{tmp_path}/{{name}}.json"},
        }
    )

    def work(index: int) -> tuple[Any, ...]:
        own, shared = f"t{index}_pkl", "shared_json"
        catalog.save(own, {"thread": index})
        catalog.save(shared, {"writer": index})
        memory = catalog.get(f"mem{index}", fallback_to_runtime_pattern=True)
        catalog.save(f"mem{index}", [index])
        return (catalog.load(own), catalog.load(shared), catalog.load(f"mem{index}"), memory)

    results = _run_together(work)
    for index, (own, shared, memory_data, memory) in enumerate(results):
        assert own == {"thread": index}
        assert shared["writer"] in range(THREADS)  # one whole write, never a torn file
        assert memory_data == [index]
        assert catalog[f"mem{index}"] is memory
    assert sorted(catalog.keys()) == sorted(
        [f"t{i}_pkl" for i in range(THREADS)]
        + [f"mem{i}" for i in range(THREADS)]
        + ["shared_json"]
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"t{i}.pkl" for i in range(THREADS)] + ["shared.json"]
    )  # and no temporary files left behind


@pytest.mark.timeout(60)
def test_each_pattern_dataset_is_created_exactly_once(reset_counting: None) -> None:
    catalog = DataCatalog.from_config(
        {
            "{name}_counted": {"type": "tests.io.conftest.CountingDataset", "path": "{name}"},
            "lazy": {"type": "tests.io.conftest.CountingDataset", "path": "lazy"},
        }
    )
    names = ["a_counted", "b_counted", "lazy"]

    def work(index: int) -> dict[str, int]:
        order = names[index % 3 :] + names[: index % 3]  # threads ask in different orders
        return {name: id(catalog.get(name)) for name in order}

    results = _run_together(work)
    assert CountingDataset.created == 3
    assert all(r == results[0] for r in results)


class RendezvousDataset(AbstractDataset[Any, Any]):
    """Its constructor waits for a second constructor of the same name to arrive.

    With the catalog's lock working, no second constructor ever comes: the wait times out and
    construction goes on. If two threads could build the same dataset at once, they would meet
    here and the count would show it, whatever the thread timing.
    """

    meeting = threading.Barrier(2, timeout=0.5)
    created = 0

    def __init__(self) -> None:
        with contextlib.suppress(threading.BrokenBarrierError):
            RendezvousDataset.meeting.wait()
        RendezvousDataset.created += 1

    def load(self) -> Any:
        return None

    def save(self, data: Any) -> None:
        pass

    def _describe(self) -> dict[str, Any]:
        return {}


@pytest.mark.timeout(60)
def test_two_threads_never_build_the_same_dataset() -> None:
    RendezvousDataset.meeting = threading.Barrier(2, timeout=0.5)
    RendezvousDataset.created = 0
    catalog = DataCatalog.from_config({"{x}_r": {"type": f"{__name__}.RendezvousDataset"}})
    with ThreadPoolExecutor(max_workers=2) as pool:
        found = list(pool.map(lambda _: catalog.get("one_r"), range(2)))
    assert RendezvousDataset.created == 1
    assert found[0] is found[1]


@pytest.mark.timeout(60)
def test_concurrent_runtime_materialisation_and_setitem() -> None:
    catalog = DataCatalog()

    def work(index: int) -> Any:
        for round_ in range(50):
            catalog.get(f"shared{round_}", fallback_to_runtime_pattern=True)
            catalog[f"own{index}_{round_}"] = round_
            assert f"shared{round_}" in catalog
        return [catalog.get(f"shared{r}") for r in range(50)]

    results = _run_together(work)
    assert all(r == results[0] for r in results)  # everyone saw the same objects
    assert len(catalog) == 50 + THREADS * 50


class BlockingDataset(AbstractDataset[Any, Any]):
    """A load that waits until told to finish: it stands for slow I/O."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.finish = threading.Event()

    def load(self) -> Any:
        self.started.set()
        if not self.finish.wait(WAIT):
            raise TimeoutError("never released")
        return "slow"

    def save(self, data: Any) -> None:
        pass

    def _describe(self) -> dict[str, Any]:
        return {}


@pytest.mark.timeout(60)
def test_the_lock_is_not_held_during_io(reset_counting: None) -> None:
    slow = BlockingDataset()
    catalog = DataCatalog.from_config(
        {"{name}_counted": {"type": "tests.io.conftest.CountingDataset", "path": "{name}"}}
    )
    catalog["slow"] = slow
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(catalog.load, "slow")
        assert slow.started.wait(WAIT)
        # While that load is in progress, everything else still works on this thread.
        catalog.save("other_counted", 1)
        assert catalog.load("other_counted") == 1
        catalog["more"] = 2
        assert "more" in catalog
        slow.finish.set()
        assert pending.result(timeout=WAIT) == "slow"
    assert isinstance(catalog["other_counted"], CountingDataset)

"""``runner.run(..., incremental=...)`` on every runner: the same skips, the same outputs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ductwork.datasets import JSONDataset
from ductwork.incremental import IncrementalResult
from ductwork.io import DataCatalog, MemoryDataset
from ductwork.pipeline import Pipeline, node
from tests.runner.conftest import RUNNERS, MakeRunner


def inc(x: int) -> int:
    return x + 1


def add(a: int, b: int) -> int:
    return a + b


def make_catalog(tmp_path: Path, start: int) -> DataCatalog:
    return DataCatalog(
        {
            "start": MemoryDataset(start),
            "b": JSONDataset(filepath=str(tmp_path / "b.json")),
            "d": JSONDataset(filepath=str(tmp_path / "d.json")),
        }
    )


PIPELINE = Pipeline(
    [
        node(inc, "start", "a", name="first"),
        node(inc, "a", "b", name="second"),
        node(inc, "start", "c", name="side"),
        node(add, ["b", "c"], "d", name="join"),
    ]
)


@pytest.mark.parametrize("runner_name", list(RUNNERS))
def test_incremental_option(runner_name: str, tmp_path: Path) -> None:
    make_runner: MakeRunner = RUNNERS[runner_name]
    store = tmp_path / "cache.sqlite"
    first = make_runner().run(PIPELINE, make_catalog(tmp_path, 1), incremental=store)
    assert isinstance(first, IncrementalResult)
    assert sorted(first.ran) == ["first", "join", "second", "side"]
    again = make_runner().run(PIPELINE, make_catalog(tmp_path, 1), incremental=store)
    assert isinstance(again, IncrementalResult)
    assert again.ran == []
    changed = make_runner().run(PIPELINE, make_catalog(tmp_path, 2), incremental=store)
    assert isinstance(changed, IncrementalResult)
    assert sorted(changed.ran) == ["first", "join", "second", "side"]
    assert (tmp_path / "d.json").read_text().strip() == "7"


@pytest.mark.parametrize("runner_name", list(RUNNERS))
def test_a_declared_in_memory_intermediate_is_never_read_stale(
    runner_name: str, tmp_path: Path
) -> None:
    """An intermediate declared in the catalog with data of its own: a runner whose nodes run
    elsewhere (processes, Dask) leaves that data here untouched, so it must not be taken for
    what the producer wrote (the reader would be skipped on a stale identity)."""
    make_runner: MakeRunner = RUNNERS[runner_name]
    store = tmp_path / "cache.sqlite"
    pipeline = Pipeline(
        [node(inc, "start", "mid", name="produce"), node(inc, "mid", "d", name="read")]
    )

    def catalog(start: int) -> DataCatalog:
        return DataCatalog(
            {
                "start": MemoryDataset(start),
                "mid": MemoryDataset(1000),  # declared, holding data before the run
                "d": JSONDataset(filepath=str(tmp_path / "d.json")),
            }
        )

    make_runner().run(pipeline, catalog(1), incremental=store)
    assert (tmp_path / "d.json").read_text().strip() == "3"
    changed = make_runner().run(pipeline, catalog(5), incremental=store)
    assert isinstance(changed, IncrementalResult)
    assert (tmp_path / "d.json").read_text().strip() == "7"
    assert sorted(changed.ran) == ["produce", "read"]


def twice(x: int) -> int:
    return x * 2


def twice_by_adding(x: int) -> int:  # other code, the same result as twice
    return x + x


def twice_plus_one(x: int) -> int:
    return x * 2 + 1


@pytest.mark.parametrize("runner_name", list(RUNNERS))
def test_early_cut_off_through_in_memory_data(runner_name: str, tmp_path: Path) -> None:
    """A node whose code changed re-runs; its in-memory output is hashed where it ran (in this
    process, a worker process or a Dask worker), so when it produced what it produced before,
    its reader is skipped, and when it did not, its reader runs."""
    make_runner: MakeRunner = RUNNERS[runner_name]
    store = tmp_path / "cache.sqlite"

    def pipeline(produce: Callable[[int], int]) -> Pipeline:
        return Pipeline(
            [node(produce, "start", "mid", name="produce"), node(inc, "mid", "d", name="read")]
        )

    def catalog() -> DataCatalog:
        return DataCatalog(
            {"start": MemoryDataset(3), "d": JSONDataset(filepath=str(tmp_path / "d.json"))}
        )

    first = make_runner().run(pipeline(twice), catalog(), incremental=store)
    assert isinstance(first, IncrementalResult)
    assert first.ran == ["produce", "read"]
    same = make_runner().run(pipeline(twice_by_adding), catalog(), incremental=store)
    assert isinstance(same, IncrementalResult)
    assert same.ran == ["produce"]
    reason = same.planner.decisions["read"].reason
    assert "upstream produce re-ran to the same output" in reason
    assert (tmp_path / "d.json").read_text().strip() == "7"
    other = make_runner().run(pipeline(twice_plus_one), catalog(), incremental=store)
    assert isinstance(other, IncrementalResult)
    assert other.ran == ["produce", "read"]
    assert (tmp_path / "d.json").read_text().strip() == "8"

"""Retries, time limits, keep-going, Ctrl-C and broken parts, under every runner."""

from __future__ import annotations

import logging
import pickle
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from ductwork.datasets import PickleDataset
from ductwork.exceptions import NodesFailedError, NodeTimeoutError
from ductwork.hooks import create_hook_manager
from ductwork.io import DataCatalog, DatasetError, MemoryDataset
from ductwork.pipeline import Pipeline, Retry, node
from tests.runner.conftest import MakeRunner
from tests.runner.helpers import (
    CustomNodeError,
    EventLog,
    FailingHook,
    HookFailure,
    RetryLog,
    add,
    double,
    fail,
    flaky,
    hang_until,
    identity,
    read_events,
)

pytestmark = pytest.mark.timeout(120)

NO_WAIT = Retry(attempts=3, backoff=0, jitter=0)


@pytest.fixture
def release(tmp_path: Path) -> Iterator[Path]:
    """A file whose existence lets hanging nodes return; created when the test ends."""
    path = tmp_path / "release"
    yield path
    path.touch()


# --- retries ------------------------------------------------------------------------------------


def test_node_failing_twice_succeeds_on_its_third_attempt(
    make_runner: MakeRunner, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    retries = tmp_path / "retries.jsonl"
    flaky_node = node(
        partial(flaky, str(tmp_path / "count"), 2), "x", "y", name="fetch", retry=NO_WAIT
    )
    outputs = make_runner().run(
        Pipeline([flaky_node]),
        DataCatalog({"x": MemoryDataset(7)}),
        create_hook_manager(RetryLog(retries)),
    )
    assert outputs["y"].load() == 7
    attempts = [(e["node"], e["attempt"], e["attempts"]) for e in read_events(retries)]
    assert attempts == [("fetch", 1, 3), ("fetch", 2, 3)]
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("'fetch' failed on attempt 1 of 3 (ConnectionError" in m for m in warned)


def test_runner_default_retry_applies_to_nodes_without_their_own(
    make_runner: MakeRunner, tmp_path: Path
) -> None:
    flaky_node = node(partial(flaky, str(tmp_path / "count"), 1), "x", "y", name="fetch")
    runner = make_runner(retry=Retry(attempts=2, backoff=0))
    assert runner.run(Pipeline([flaky_node]), DataCatalog({"x": MemoryDataset(3)}))["y"].load() == 3


def test_exhausted_retries_raise_the_last_error_with_the_attempt_count(
    make_runner: MakeRunner, tmp_path: Path
) -> None:
    flaky_node = node(
        partial(flaky, str(tmp_path / "count"), 5), "x", "y", name="fetch", retry=NO_WAIT
    )
    with pytest.raises(ConnectionError, match="flaky failure 3") as info:
        make_runner().run(Pipeline([flaky_node]), DataCatalog({"x": MemoryDataset(3)}))
    notes = getattr(info.value, "__notes__", [])
    assert "ductwork: the node failed on each of 3 attempts." in notes


def test_errors_outside_the_policy_are_not_retried(make_runner: MakeRunner, tmp_path: Path) -> None:
    retries = tmp_path / "retries.jsonl"
    policy = Retry(attempts=3, backoff=0, on=(ConnectionError,))
    broken = node(fail, "x", "y", name="broken", retry=policy)
    with pytest.raises(CustomNodeError):
        make_runner().run(
            Pipeline([broken]),
            DataCatalog({"x": MemoryDataset(1)}),
            create_hook_manager(RetryLog(retries)),
        )
    assert read_events(retries) == []


# --- time limits --------------------------------------------------------------------------------


def test_node_hanging_past_its_timeout_fails_the_run(
    make_runner: MakeRunner, tmp_path: Path, release: Path
) -> None:
    started = tmp_path / "started"
    hanging = node(
        partial(hang_until, str(release), str(started)), "x", "y", name="hangs", timeout=0.5
    )
    with pytest.raises(NodeTimeoutError, match=r"'hangs' ran longer than its time limit of 0\.5 s"):
        make_runner().run(Pipeline([hanging]), DataCatalog({"x": MemoryDataset(1)}))
    assert read_events(started), "the node never started"


def test_runner_default_timeout_and_nothing_saved_after_it(
    make_runner: MakeRunner, tmp_path: Path, release: Path
) -> None:
    started = tmp_path / "started"
    out = tmp_path / "out.pkl"
    hanging = node(partial(hang_until, str(release), str(started)), "x", "out", name="hangs")
    catalog = DataCatalog({"x": MemoryDataset(1), "out": PickleDataset(filepath=str(out))})
    with pytest.raises(NodeTimeoutError):
        make_runner(timeout=0.5).run(Pipeline([hanging]), catalog)
    release.touch()
    assert not out.exists()


# --- keep going ---------------------------------------------------------------------------------


def diamond_with_failing_branch(tmp_path: Path) -> tuple[Pipeline, DataCatalog]:
    pipeline = Pipeline(
        [
            node(identity, "x", "l_in", name="split_left"),
            node(identity, "x", "r_in", name="split_right"),
            node(fail, "l_in", "l_out", name="left_fails"),
            node(double, "r_in", "r_out", name="right_works"),
            node(add, ["l_out", "r_out"], "joined", name="join"),
            node(double, "r_out", "r_side", name="right_side"),
        ]
    )
    persisted = {
        n: PickleDataset(filepath=str(tmp_path / f"{n}.pkl")) for n in ("r_out", "r_side", "joined")
    }
    return pipeline, DataCatalog({"x": MemoryDataset(4), **persisted})


def test_keep_going_finishes_the_other_branch_and_lists_the_failure(
    make_runner: MakeRunner, tmp_path: Path
) -> None:
    pipeline, catalog = diamond_with_failing_branch(tmp_path)
    with pytest.raises(NodesFailedError, match="left_fails: CustomNodeError") as info:
        make_runner(keep_going=True).run(pipeline, catalog)
    assert [name for name, _ in info.value.failures] == ["left_fails"]
    assert isinstance(info.value.failures[0][1], CustomNodeError)
    assert isinstance(info.value.__cause__, CustomNodeError)
    assert catalog.load("r_out") == 8
    assert catalog.load("r_side") == 16
    assert not catalog.exists("joined")


def test_without_keep_going_the_first_failure_stops_the_run(
    make_runner: MakeRunner, tmp_path: Path
) -> None:
    pipeline, catalog = diamond_with_failing_branch(tmp_path)
    with pytest.raises(CustomNodeError):
        make_runner().run(pipeline, catalog)
    assert not catalog.exists("joined")


# --- broken parts -------------------------------------------------------------------------------


def test_exception_inside_a_hook_fails_the_node_with_its_own_type(
    make_runner: MakeRunner, tmp_path: Path
) -> None:
    log = tmp_path / "events.jsonl"
    pipeline = Pipeline([node(identity, "x", "y", name="a"), node(identity, "y", "z", name="b")])
    hooks = create_hook_manager(FailingHook("b"), EventLog(log))
    with pytest.raises(HookFailure, match="hook broke on b") as info:
        make_runner().run(pipeline, DataCatalog({"x": MemoryDataset(1)}), hooks)
    assert any("'b'" in note for note in getattr(info.value, "__notes__", []))
    assert read_events(log)[-1]["hook"] == "on_pipeline_error"


class Explodes:
    """Pickling this raises, after the objects before it were written."""

    def __reduce__(self) -> Any:
        raise RuntimeError("cannot pickle this on purpose")


def produce_half_bad(x: Any) -> list[Any]:
    return [b"0" * 1_000_000, Explodes()]


def test_save_failing_half_way_leaves_the_previous_file_intact(
    make_runner: MakeRunner, tmp_path: Path
) -> None:
    path = tmp_path / "out.pkl"
    catalog = DataCatalog({"x": MemoryDataset(1), "out": PickleDataset(filepath=str(path))})
    catalog.save("out", "previous version")
    before = path.read_bytes()
    pipeline = Pipeline([node(produce_half_bad, "x", "out", name="writer")])
    with pytest.raises(DatasetError, match="out"):
        make_runner().run(pipeline, catalog)
    assert path.read_bytes() == before
    assert pickle.loads(before) == "previous version"
    assert [p.name for p in tmp_path.iterdir()] == ["out.pkl"]

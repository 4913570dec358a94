"""The resume suggestion logged when a run fails, under every runner."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from ductwork.datasets import PickleDataset
from ductwork.io import DataCatalog, MemoryDataset
from ductwork.pipeline import Pipeline, node
from tests.runner.conftest import MakeRunner
from tests.runner.helpers import CustomNodeError, double, fail, identity

pytestmark = pytest.mark.timeout(120)


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def chain_failing_at_c(tmp_path: Path, persisted: set[str]) -> tuple[Pipeline, DataCatalog]:
    pipeline = Pipeline(
        [
            node(identity, "x", "y", name="a"),
            node(double, "y", "z", name="b"),
            node(fail, "z", "w", name="c"),
            node(identity, "w", "out", name="d"),
        ]
    )
    datasets = {"x": MemoryDataset(1)} | {
        name: PickleDataset(filepath=str(tmp_path / f"{name}.pkl")) for name in persisted
    }
    return pipeline, DataCatalog(datasets)


@pytest.mark.parametrize(
    ("persisted", "expected"),
    [
        ({"y", "z", "w", "out"}, '--from-nodes "c"'),
        ({"y", "w", "out"}, '--from-nodes "b"'),
        ({"w", "out"}, '--from-nodes "a"'),
    ],
)
def test_suggests_the_nearest_nodes_with_persisted_inputs(
    make_runner: MakeRunner,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    persisted: set[str],
    expected: str,
) -> None:
    pipeline, catalog = chain_failing_at_c(tmp_path, persisted)
    with pytest.raises(CustomNodeError):
        make_runner().run(pipeline, catalog)
    (message,) = warnings_of(caplog)
    assert message.startswith("2 of 4 nodes did not finish.")
    assert message.endswith(f"\n  {expected}")


def test_first_node_failing_says_to_repeat(
    make_runner: MakeRunner, caplog: pytest.LogCaptureFixture
) -> None:
    pipeline = Pipeline(
        [node(fail, "x", "y", name="first"), node(identity, "y", "z", name="second")]
    )
    with pytest.raises(CustomNodeError):
        make_runner().run(pipeline, DataCatalog({"x": MemoryDataset(1)}))
    assert warnings_of(caplog) == [
        "No nodes ran. Repeat the previous command to attempt a new run."
    ]


def test_suggestion_is_the_same_for_the_same_failure(
    make_runner: MakeRunner, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    pipeline = Pipeline(
        [
            node(identity, "x", "p", name="prepare"),
            node(identity, "p", "l", name="left"),
            node(identity, "p", "r", name="right"),
            node(fail, ["l", "r"], "out", name="join"),
        ]
    )
    messages = []
    for _ in range(3):
        caplog.clear()
        persisted = {name: PickleDataset(filepath=str(tmp_path / name)) for name in ("p", "l")}
        catalog = DataCatalog({"x": MemoryDataset(1), **persisted})
        with pytest.raises(CustomNodeError):
            make_runner().run(pipeline, catalog)
        messages.append(warnings_of(caplog))
    assert messages[0] == messages[1] == messages[2]
    assert messages[0][0].endswith('--from-nodes "right"')

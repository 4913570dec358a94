"""A node's ``confirms`` on every runner: the dataset's own ``confirm()`` is called after the node.

The process and Dask runners ship a confirmed dataset to their workers, whether or not the node
loads it and whether or not its data lives in memory (``confirm()`` is a call on the dataset
itself, where the node runs): one rule for both, :func:`ductwork.runner.validation.sort_datasets`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ductwork.io import AbstractDataset, DataCatalog, MemoryDataset
from ductwork.pipeline import Pipeline, node
from tests.runner.conftest import MakeRunner
from tests.runner.helpers import identity

pytestmark = pytest.mark.timeout(120)


class ConfirmedDataset(AbstractDataset[Any, Any]):
    """Holds its data in its own memory; ``confirm()`` leaves a marker file (seen from any
    process)."""

    def __init__(self, marker: str, data: Any = None, in_memory: bool = False) -> None:
        self._marker = marker
        self._data = data
        self._EPHEMERAL = in_memory

    def load(self) -> Any:
        return self._data

    def save(self, data: Any) -> None:
        self._data = data

    def _describe(self) -> dict[str, Any]:
        return {"marker": self._marker}

    def confirm(self) -> None:
        Path(self._marker).write_text("confirmed")


@pytest.mark.parametrize("in_memory", [False, True], ids=["persisted", "in-memory"])
@pytest.mark.parametrize("loaded", [True, False], ids=["loaded", "not-loaded"])
def test_a_confirmed_dataset_is_confirmed_where_the_node_ran(
    make_runner: MakeRunner, tmp_path: Path, in_memory: bool, loaded: bool
) -> None:
    marker = tmp_path / "confirmed"
    confirmed = ConfirmedDataset(str(marker), data=7, in_memory=in_memory)
    catalog = DataCatalog({"c": confirmed, "x": MemoryDataset(7), "out": MemoryDataset()})
    pipeline = Pipeline([node(identity, "c" if loaded else "x", "out", name="n", confirms="c")])
    make_runner().run(pipeline, catalog)
    assert catalog.load("out") == 7
    assert marker.read_text() == "confirmed"

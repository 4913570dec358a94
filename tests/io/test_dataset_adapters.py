"""The adapters through which code outside ductwork.io reads what datasets keep privately."""

from __future__ import annotations

from pathlib import Path

from ductwork.datasets.pickle import PickleDataset
from ductwork.io import MemoryDataset
from ductwork.io._protocols import file_location, memory_data


def test_memory_data_is_the_held_object_itself() -> None:
    dataset = MemoryDataset({"rows": [1, 2, 3]})
    held = memory_data(dataset)
    assert held == {"rows": [1, 2, 3]}
    assert memory_data(dataset) is held
    assert dataset.load() is not held  # load() hands out a copy


def test_memory_data_is_none_for_an_empty_or_other_dataset(tmp_path: Path) -> None:
    assert memory_data(MemoryDataset()) is None
    assert memory_data(PickleDataset(filepath=str(tmp_path / "x.pkl"))) is None


def test_file_location_of_a_local_file_dataset(tmp_path: Path) -> None:
    path = tmp_path / "x.pkl"
    fs, where, protocol = file_location(PickleDataset(filepath=str(path))) or (1, "", "")
    assert (fs, Path(where), protocol) == (None, path, "file")


def test_file_location_of_a_dataset_without_a_file_is_none() -> None:
    assert file_location(MemoryDataset(1)) is None
    assert file_location(object()) is None

"""MemoryDataset: copies on load and save, copy-mode inference, and the empty marker."""

from __future__ import annotations

import copy
import pickle
from typing import Any

import cloudpickle
import pytest

from ductwork.io import DatasetError, MemoryDataset, SharedMemoryDataset
from ductwork.io.memory_dataset import (
    _EMPTY,
    _copy_with_mode,
    _infer_copy_mode,
    _is_memory_dataset,
)


def _fake_class(module: str, name: str) -> type:
    """A class that looks like ``module.name`` without importing that library."""
    return type(name, (), {"__module__": module, "copy": lambda self: ("copied", self)})


def test_save_then_load_returns_an_independent_copy() -> None:
    original = {"a": [1, 2]}
    dataset = MemoryDataset()
    dataset.save(original)
    original["a"].append(3)
    loaded = dataset.load()
    assert loaded == {"a": [1, 2]}
    loaded["a"].append(4)
    assert dataset.load() == {"a": [1, 2]}


def test_constructor_data_is_copied_too() -> None:
    original = [1]
    dataset = MemoryDataset(data=original)
    original.append(2)
    assert dataset.load() == [1]


def test_assign_mode_shares_the_object() -> None:
    data = [1]
    dataset = MemoryDataset(data=data, copy_mode="assign")
    assert dataset.load() is data


def test_none_from_the_constructor_is_allowed_but_save_none_is_not() -> None:
    assert MemoryDataset(data=None).load() is None
    with pytest.raises(DatasetError, match="Saving 'None' to a 'Dataset' is not allowed"):
        MemoryDataset().save(None)


def test_empty_load_raises() -> None:
    with pytest.raises(DatasetError, match=r"^Data for MemoryDataset has not been saved yet\.$"):
        MemoryDataset().load()


@pytest.mark.parametrize("dumps", [pickle.dumps, cloudpickle.dumps, copy.deepcopy])
def test_empty_stays_empty_after_a_round_trip(dumps: Any) -> None:
    """Kedro 1.1 lost the marker in pickling; a worker then loaded a placeholder object."""
    dataset = MemoryDataset()
    clone = pickle.loads(dumps(dataset)) if dumps is not copy.deepcopy else dumps(dataset)
    assert clone.exists() is False
    with pytest.raises(DatasetError, match="has not been saved yet"):
        clone.load()
    assert clone._data is _EMPTY


def test_full_dataset_round_trips_with_its_data() -> None:
    clone = pickle.loads(pickle.dumps(MemoryDataset(data={"x": 1})))
    assert clone.load() == {"x": 1}


def test_exists_and_release() -> None:
    dataset = MemoryDataset(data=1)
    assert dataset.exists() is True
    dataset.release()
    assert dataset.exists() is False
    with pytest.raises(DatasetError):
        dataset.load()


def test_repr_names_the_data_type() -> None:
    assert repr(MemoryDataset()) == "ductwork.io.memory_dataset.MemoryDataset()"
    assert (
        repr(MemoryDataset(data=[1])) == "ductwork.io.memory_dataset.MemoryDataset(data='<list>')"
    )


@pytest.mark.parametrize(
    ("module", "name", "mode"),
    [
        ("pandas.core.frame", "DataFrame", "copy"),
        ("numpy", "ndarray", "copy"),
        ("pyspark.sql.dataframe", "DataFrame", "assign"),
        ("polars.dataframe.frame", "DataFrame", "assign"),
        ("ibis.expr.types.relations", "Table", "assign"),
        ("mylib", "Table", "deepcopy"),
        ("mylib", "Frame", "deepcopy"),
    ],
)
def test_copy_mode_is_inferred_from_names(module: str, name: str, mode: str) -> None:
    assert _infer_copy_mode(_fake_class(module, name)()) == mode


def test_copy_mode_sees_subclasses() -> None:
    base = _fake_class("pandas.core.frame", "DataFrame")
    sub = type("MyFrame", (base,), {"__module__": "mine"})
    assert _infer_copy_mode(sub()) == "copy"


@pytest.mark.parametrize("value", [1, "s", [1], {"a": 1}, (1, 2), object()])
def test_plain_objects_are_deep_copied(value: Any) -> None:
    assert _infer_copy_mode(value) == "deepcopy"


def test_real_pandas_and_numpy_copy_modes() -> None:
    pd = pytest.importorskip("pandas")
    np = pytest.importorskip("numpy")
    frame = pd.DataFrame({"a": [1]})
    assert _infer_copy_mode(frame) == "copy"
    assert _infer_copy_mode(np.zeros(2)) == "copy"
    dataset = MemoryDataset(data=frame)
    loaded = dataset.load()
    assert loaded is not frame
    assert loaded.equals(frame)


def test_copy_with_mode() -> None:
    data = [[1]]
    assert _copy_with_mode(data, "assign") is data
    shallow = _copy_with_mode(data, "copy")
    assert shallow is not data
    assert shallow[0] is data[0]
    deep = _copy_with_mode(data, "deepcopy")
    assert deep == data
    assert deep[0] is not data[0]


def test_invalid_copy_mode_fails_when_copying() -> None:
    dataset = MemoryDataset(copy_mode="clone")  # type: ignore[arg-type]
    message = r"^Invalid copy mode: clone\. Possible values are: deepcopy, copy, assign\.$"
    with pytest.raises(DatasetError, match=message):
        dataset.save(1)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("MemoryDataset", True),
        ("ductwork.io.memory_dataset.MemoryDataset", True),
        ("ductwork.io.MemoryDataset", True),
        ("kedro.io.MemoryDataset", True),
        ("SharedMemoryDataset", True),
        ("pickle.PickleDataset", False),
        ("mylib.MemoryDataset", False),
        (MemoryDataset(), True),
        (SharedMemoryDataset(), True),
        (MemoryDataset, True),
        (object(), False),
    ],
)
def test_is_memory_dataset(value: Any, expected: bool) -> None:
    assert _is_memory_dataset(value) is expected

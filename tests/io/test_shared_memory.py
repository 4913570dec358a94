"""SharedMemoryDataset and SharedMemoryDataCatalog, including validate_catalog."""

from __future__ import annotations

import pickle
import threading
from multiprocessing.managers import SyncManager
from typing import Any

import pytest

from ductwork.exceptions import DatasetNotPicklableError
from ductwork.io import (
    CachedDataset,
    DatasetError,
    MemoryDataset,
    SharedMemoryDataCatalog,
    SharedMemoryDataset,
)
from tests.io.conftest import RecordingDataset


class ClientDataset(RecordingDataset):
    """Holds a client object with a lock, like many database or cloud datasets."""

    def __init__(self) -> None:
        super().__init__(data=1)
        self.client = threading.Lock()


class Connection:
    def __init__(self) -> None:
        self.socket_lock = threading.RLock()
        self.host = "db"


class NestedClientDataset(RecordingDataset):
    def __init__(self) -> None:
        super().__init__(data=1)
        self.connection = Connection()


# --- SharedMemoryDataset ----------------------------------------------------------------------


def test_shared_memory_dataset_holds_data_like_memory() -> None:
    dataset = SharedMemoryDataset()
    assert dataset._EPHEMERAL is True
    assert dataset.exists() is False
    dataset.save({"a": 1})
    assert dataset.load() == {"a": 1}
    with pytest.raises(DatasetError, match="Saving 'None'"):
        dataset.save(None)
    assert "MemoryDataset" in str(dataset)


def test_set_manager_is_accepted_and_the_dataset_still_pickles() -> None:
    manager = SyncManager()
    manager.start()
    try:
        dataset = SharedMemoryDataset(manager)
        dataset.set_manager(manager)
        dataset.save([1])
        assert pickle.loads(pickle.dumps(dataset)).load() == [1]
    finally:
        manager.shutdown()


def test_set_manager_datasets_reaches_every_shared_dataset() -> None:
    seen: list[Any] = []

    class Spy(SharedMemoryDataset):
        def set_manager(self, manager: Any) -> None:
            seen.append(manager)

    catalog = SharedMemoryDataCatalog({"a": Spy(), "b": Spy(), "c": MemoryDataset()})
    seen.clear()  # the constructors passed their own (None) manager
    catalog.set_manager_datasets("the manager")
    assert seen == ["the manager", "the manager"]


# --- validate_catalog ---------------------------------------------------------------------------


def test_picklable_catalog_validates() -> None:
    catalog = SharedMemoryDataCatalog({"empty": MemoryDataset(), "full": MemoryDataset(data=[1])})
    catalog.get("runtime", fallback_to_runtime_pattern=True)
    catalog.validate_catalog()


def test_every_offender_is_reported_at_once_naming_the_attribute() -> None:
    catalog = SharedMemoryDataCatalog(
        {
            "client": ClientDataset(),
            "nested": NestedClientDataset(),
            "cached": CachedDataset(MemoryDataset()),
            "data": MemoryDataset(data={"lock": threading.Lock()}, copy_mode="assign"),
            "fine": MemoryDataset(data=1),
        }
    )
    with pytest.raises(DatasetNotPicklableError) as info:
        catalog.validate_catalog()
    error = info.value
    assert isinstance(error, AttributeError)  # what Kedro raises, and its callers catch
    assert isinstance(error, DatasetError)
    message = str(error)
    assert message.startswith(
        "The following datasets cannot be used with multiprocessing: "
        "['cached', 'client', 'data', 'nested']"
    )
    assert "'client': attribute 'client' holds a '_thread.lock' that cannot be pickled" in message
    assert (
        "'nested': attribute 'connection.socket_lock' holds a '_thread.RLock' that cannot be "
        "pickled" in message
    )
    assert "'cached': it is marked single-process (_SINGLE_PROCESS = True)" in message
    assert "'data': attribute '_data['lock']' holds a '_thread.lock'" in message
    assert sorted(error.offenders) == ["cached", "client", "data", "nested"]


def test_validate_only_the_named_datasets() -> None:
    catalog = SharedMemoryDataCatalog({"client": ClientDataset(), "fine": MemoryDataset(data=1)})
    catalog.validate_catalog(["fine", "undeclared"])
    assert isinstance(catalog["undeclared"], SharedMemoryDataset)  # created as a run would
    with pytest.raises(DatasetNotPicklableError) as info:
        catalog.validate_catalog(["client"])
    assert list(info.value.offenders) == ["client"]


def test_the_error_itself_pickles_with_its_offenders() -> None:
    catalog = SharedMemoryDataCatalog({"client": ClientDataset()})
    with pytest.raises(DatasetNotPicklableError) as info:
        catalog.validate_catalog()
    clone = pickle.loads(pickle.dumps(info.value))
    assert str(clone) == str(info.value)
    assert clone.offenders == info.value.offenders

"""Shared helpers for the io tests: small datasets that record what happens to them."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from ductwork.io import AbstractDataset, DataCatalog


class RecordingDataset(AbstractDataset[Any, Any]):
    """Holds data like a file would (not ephemeral) and counts calls."""

    def __init__(self, data: Any = None, fail_with: Exception | None = None) -> None:
        self._data = data
        self._fail_with = fail_with
        self.loads = 0
        self.saves = 0
        self.releases = 0

    def load(self) -> Any:
        self.loads += 1
        if self._fail_with is not None:
            raise self._fail_with
        return self._data

    def save(self, data: Any) -> None:
        self.saves += 1
        if self._fail_with is not None:
            raise self._fail_with
        self._data = data

    def _exists(self) -> bool:
        return self._data is not None

    def _release(self) -> None:
        self.releases += 1

    def _describe(self) -> dict[str, Any]:
        return {"data": type(self._data).__name__}


class CountingDataset(AbstractDataset[Any, Any]):
    """A persistent-looking dataset whose constructions are counted across threads."""

    created: int = 0
    _count_lock = threading.Lock()

    def __init__(self, path: str) -> None:
        with CountingDataset._count_lock:
            CountingDataset.created += 1
        self.path = path
        self._data: Any = None

    def load(self) -> Any:
        return self._data

    def save(self, data: Any) -> None:
        self._data = data

    def _exists(self) -> bool:
        return self._data is not None

    def _describe(self) -> dict[str, Any]:
        return {"path": self.path}


class DuckDataset:
    """A dataset from "another library": the right methods, no ductwork base class."""

    def __init__(self) -> None:
        self.data: Any = None
        self.released = False

    def load(self) -> Any:
        return self.data

    def save(self, data: Any) -> None:
        self.data = data

    def exists(self) -> bool:
        return self.data is not None

    def release(self) -> None:
        self.released = True


@pytest.fixture
def recording() -> RecordingDataset:
    return RecordingDataset(data=[1, 2, 3])


@pytest.fixture
def catalog(recording: RecordingDataset) -> DataCatalog:
    return DataCatalog(datasets={"recorded": recording, "numbers": [4, 5]})


@pytest.fixture
def reset_counting() -> None:
    CountingDataset.created = 0

"""A dataset that holds its data in the memory of the current process.

Loads and saves copy the data so that a node cannot change what another node sees. How to copy
depends on the data: pandas frames and numpy arrays have a cheap ``.copy()``; other frame types
(Spark, polars, ibis tables) are immutable or too large to copy, so they are passed as they are;
everything else is deep-copied. The type is recognised by its class and module names, never by
importing pandas or numpy.
"""

from __future__ import annotations

import copy
import logging
from typing import Any, Final, Literal

from ductwork.exceptions import DatasetError
from ductwork.io._abstract import AbstractDataset

_logger = logging.getLogger(__name__)

TCopyMode = Literal["deepcopy", "copy", "assign"]
_COPY_MODES: Final = ("deepcopy", "copy", "assign")


class _Empty:
    """The marker of a MemoryDataset that holds no data.

    It pickles as a reference to the module-level :data:`_EMPTY`, so an empty dataset sent to
    another process is still empty there, and identity checks keep working after the trip.
    """

    _instance: _Empty | None = None

    def __new__(cls) -> _Empty:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __reduce__(self) -> str:
        return "_EMPTY"

    def __repr__(self) -> str:
        return "<empty>"


_EMPTY: Final = _Empty()


def _root_module(cls: type) -> str:
    return cls.__module__.partition(".")[0]


# Immutable values need no copy; `deepcopy` would return them unchanged, only slower.
_IMMUTABLE: Final[frozenset[type]] = frozenset(
    {int, float, complex, bool, str, bytes, type(None), range}
)

# The mode depends only on the class, and a run asks for it on every load and save: remember it.
_MODE_BY_CLASS: dict[type, TCopyMode] = {}


def _infer_copy_mode(data: Any) -> TCopyMode:
    """Return the copy mode suited to ``data`` (see the module docstring)."""
    cls = type(data)
    mode = _MODE_BY_CLASS.get(cls)
    if mode is None:
        mode = _MODE_BY_CLASS[cls] = _mode_of_class(cls)
    return mode


def _mode_of_class(cls: type) -> TCopyMode:
    classes = cls.__mro__
    if any(
        (_root_module(c), c.__name__) in {("pandas", "DataFrame"), ("numpy", "ndarray")}
        for c in classes
    ):
        return "copy"
    if any(
        c.__name__ == "DataFrame" or (_root_module(c), c.__name__) == ("ibis", "Table")
        for c in classes
    ):
        return "assign"
    return "deepcopy"


def _copy_with_mode(data: Any, copy_mode: str) -> Any:
    """Return ``data`` copied as ``copy_mode`` says.

    Raises:
        DatasetError: ``copy_mode`` is not one of ``deepcopy``, ``copy`` or ``assign``.
    """
    if copy_mode == "deepcopy":
        return data if type(data) in _IMMUTABLE else copy.deepcopy(data)
    if copy_mode == "copy":
        return data.copy()
    if copy_mode == "assign":
        return data
    raise DatasetError(
        f"Invalid copy mode: {copy_mode}. Possible values are: {', '.join(_COPY_MODES)}."
    )


def _is_memory_dataset(ds_or_type: Any) -> bool:
    """Return whether an object, a type name or a class path denotes a memory dataset."""
    if isinstance(ds_or_type, str):
        short = ds_or_type.rpartition(".")[2]
        return short in {"MemoryDataset", "SharedMemoryDataset"} and (
            ds_or_type == short or ds_or_type.startswith(("ductwork.io.", "kedro.io."))
        )
    if isinstance(ds_or_type, type):
        return issubclass(ds_or_type, MemoryDataset)
    return isinstance(ds_or_type, MemoryDataset)


class MemoryDataset(AbstractDataset[Any, Any]):
    """Holds data in memory for the length of a run.

    Args:
        data: Initial data. Unlike :meth:`save`, this may be ``None``.
        copy_mode: ``"deepcopy"``, ``"copy"`` or ``"assign"``; inferred from the data if ``None``.
        metadata: Free-form information for plugins; not used by ductwork.

    Example:
        >>> dataset = MemoryDataset(data=[1, 2])
        >>> dataset.load()
        [1, 2]
    """

    _EPHEMERAL = True
    _RECORD_INIT_ARGS = False  # the argument is the data: keeping it would pin it in memory

    def __init__(
        self,
        data: Any = _EMPTY,
        copy_mode: TCopyMode | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._data: Any = _EMPTY
        self._copy_mode = copy_mode
        self.metadata = metadata
        if data is not _EMPTY:
            self._store(data)

    def _copied(self, data: Any) -> Any:
        mode = self._copy_mode
        if mode is None:
            if type(data) in _IMMUTABLE:  # what every inferred mode would return unchanged
                return data
            mode = _infer_copy_mode(data)
        return _copy_with_mode(data, mode)

    def _store(self, data: Any) -> None:
        self._data = self._copied(data)

    def load(self) -> Any:
        """Return a copy of the data held.

        Raises:
            DatasetError: Nothing has been saved yet (or the data was released).
        """
        data = self._data
        if data is _EMPTY:
            raise DatasetError("Data for MemoryDataset has not been saved yet.")
        return self._copied(data)

    def save(self, data: Any) -> None:
        """Keep a copy of ``data``."""
        self._store(data)

    def _exists(self) -> bool:
        return self._data is not _EMPTY

    def _release(self) -> None:
        if self._data is not _EMPTY and _logger.isEnabledFor(logging.DEBUG):
            _logger.debug("Releasing the data held by %s", type(self).__name__)
        self._data = _EMPTY

    def _describe(self) -> dict[str, Any]:
        if self._data is _EMPTY:
            return {"data": None}
        return {"data": f"<{type(self._data).__name__}>"}

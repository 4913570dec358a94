"""What a runner may expect of a catalog, as structural types.

A catalog class does not need to inherit from anything: any object with these members works with
ductwork's runners, which use nothing else. The one thing a run needs beyond them, forgetting the
datasets it created for its intermediates, goes through :func:`forget_datasets`: the catalog's
public ``forget`` when it has one (``DataCatalog`` does), else the one adapter for catalogs
written for Kedro, which only have Kedro's private ``_datasets``.

Code outside :mod:`ductwork.io` that must know more of a dataset than its public methods say
asks the adapters at the end of this module (:func:`file_location`, :func:`memory_data`), so
that the private attributes they read are read in one place.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterator
from typing import Any, Protocol, runtime_checkable

from ductwork.io.memory_dataset import _EMPTY, MemoryDataset


@runtime_checkable
class CatalogProtocol(Protocol):
    """The catalog interface runners use."""

    def __repr__(self) -> str:
        """A readable description."""
        ...

    def __contains__(self, ds_name: str) -> bool:
        """Whether the name is declared (explicitly or by a user pattern)."""
        ...

    def __iter__(self) -> Iterator[str]:
        """Iterate over the names."""
        ...

    def __getitem__(self, ds_name: str) -> Any:
        """The dataset called ``ds_name``."""
        ...

    def __setitem__(self, key: str, value: Any) -> None:
        """Add or replace a dataset (raw data is wrapped in a memory dataset)."""
        ...

    def keys(self) -> list[str]:
        """The names."""
        ...

    def values(self) -> list[Any]:
        """The datasets."""
        ...

    def items(self) -> list[tuple[str, Any]]:
        """Name and dataset pairs."""
        ...

    @classmethod
    def from_config(cls, catalog: dict[str, dict[str, Any]] | None) -> CatalogProtocol:
        """Create a catalog from configuration."""
        ...

    def get(self, key: str, fallback_to_runtime_pattern: bool = False) -> Any:
        """The dataset called ``key``, or ``None``."""
        ...

    def save(self, ds_name: str, data: Any) -> None:
        """Save data to a dataset."""
        ...

    def load(self, ds_name: str, version: str | None = None) -> Any:
        """Load data from a dataset."""
        ...

    def release(self, ds_name: str) -> None:
        """Release a dataset's data."""
        ...

    def confirm(self, ds_name: str) -> None:
        """Confirm a dataset."""
        ...

    def exists(self, ds_name: str) -> bool:
        """Whether a dataset's data exists."""
        ...


@runtime_checkable
class SharedMemoryCatalogProtocol(CatalogProtocol, Protocol):
    """The catalog interface of the process runner."""

    def set_manager_datasets(self, manager: Any) -> None:
        """Give shared-memory datasets the runner's manager."""
        ...

    def validate_catalog(self) -> None:
        """Raise if a dataset cannot be sent to a worker process."""
        ...


def forget_datasets(catalog: CatalogProtocol, names: Collection[str]) -> None:
    """Remove the datasets ``names`` from ``catalog`` (a run's own intermediates).

    Uses the catalog's ``forget`` when it has one; a catalog written for Kedro has not, and
    keeps its datasets in ``_datasets``: they are removed from there.
    """
    forget = getattr(catalog, "forget", None)
    if callable(forget):
        forget(names)
        return
    datasets = getattr(catalog, "_datasets", None)
    if isinstance(datasets, dict):
        for name in names:
            datasets.pop(name, None)


def file_location(dataset: Any) -> tuple[Any, str, str] | None:
    """``(filesystem, path, protocol)`` of a file-based dataset's current load path, or None.

    Reads what file datasets (ductwork's and Kedro's) keep privately: ``_fs``, ``_protocol``, and
    the load path from ``_get_load_path`` (else ``_get_save_path``, ``_filepath``, ``_path``).
    A local file gives ``(None, absolute path, "file")``.
    """
    fs = getattr(dataset, "_fs", None)
    path = None
    for attribute in ("_get_load_path", "_get_save_path"):
        getter = getattr(dataset, attribute, None)
        if callable(getter):
            try:
                path = getter()
                break
            except Exception:  # a versioned dataset with no version yet
                continue
    if path is None:
        path = getattr(dataset, "_filepath", None) or getattr(dataset, "_path", None)
    if path is None:
        return None
    protocol = str(getattr(dataset, "_protocol", "file") or "file")
    if protocol in ("file", "local") or fs is None:
        return (None, os.path.abspath(str(path)), "file")
    return (fs, str(path), protocol)


def memory_data(dataset: Any) -> Any:
    """The data a ``MemoryDataset`` holds, uncopied (``None``: it holds none, or is not one)."""
    if not isinstance(dataset, MemoryDataset):
        return None
    data = dataset._data
    return None if data is _EMPTY else data


# What a file dataset reads and writes with, besides its path, which its repr may not show.
_OPTIONS = ("_load_args", "_save_args", "_open_args_load", "_open_args_save", "_fs_args")


def dataset_options(dataset: Any) -> list[Any]:
    """A file dataset's load and save options, in a fixed order: ``load_args``,
    ``save_args``, the ``open`` arguments of loads and of saves, ``fs_args`` (``None`` for
    each it does not have). Incremental runs count them in an input's identity: a changed
    ``load_args`` changes what a node gets from the same file."""
    return [getattr(dataset, name, None) for name in _OPTIONS]


def held_data(dataset: Any) -> Any:
    """The data an in-memory dataset holds now, uncopied: a ``MemoryDataset``'s, or what a
    runner's in-memory stand-in returns from its ``held()`` (a worker process's
    ``TransportDataset``: what the node running there saved); ``None`` when it holds none."""
    if isinstance(dataset, MemoryDataset):
        return memory_data(dataset)
    held = getattr(dataset, "held", None)
    if callable(held) and getattr(dataset, "_EPHEMERAL", False):
        return held()
    return None

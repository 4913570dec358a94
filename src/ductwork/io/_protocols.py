"""What a runner may expect of a catalog, as structural types.

A catalog class does not need to inherit from anything: any object with these members works with
ductwork's runners, which use nothing else. The one thing a run needs beyond them, forgetting the
datasets it created for its intermediates, goes through :func:`forget_datasets`: the catalog's
public ``forget`` when it has one (``DataCatalog`` does), else the one adapter for catalogs
written for Kedro, which only have Kedro's private ``_datasets``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Any, Protocol, runtime_checkable


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

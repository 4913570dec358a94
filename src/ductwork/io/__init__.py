"""Datasets and the data catalog.

``ductwork.io`` knows nothing of pipelines or runners: a runner moves data only through a catalog
(:class:`DataCatalog`), and a catalog holds datasets (anything with ``load``, ``save``,
``exists`` and ``release``; usually a subclass of :class:`AbstractDataset`).
"""

from __future__ import annotations

from ductwork.exceptions import (
    DatasetAlreadyExistsError,
    DatasetConfigError,
    DatasetError,
    DatasetNotFoundError,
    DatasetNotPicklableError,
    VersionAlreadyExistsError,
    VersionNotFoundError,
)
from ductwork.io._abstract import AbstractDataset
from ductwork.io._protocols import CatalogProtocol, SharedMemoryCatalogProtocol
from ductwork.io._version import Version
from ductwork.io._versioned import AbstractVersionedDataset
from ductwork.io.cached_dataset import CachedDataset

# Importable as in Kedro, though not part of the pinned `__all__`.
from ductwork.io.catalog_config_resolver import CatalogConfigResolver as CatalogConfigResolver
from ductwork.io.data_catalog import DataCatalog
from ductwork.io.memory_dataset import MemoryDataset
from ductwork.io.shared_memory_catalog import SharedMemoryDataCatalog
from ductwork.io.shared_memory_dataset import SharedMemoryDataset

__all__ = [
    "AbstractDataset",
    "AbstractVersionedDataset",
    "CachedDataset",
    "CatalogProtocol",
    "DataCatalog",
    "DatasetAlreadyExistsError",
    "DatasetConfigError",
    "DatasetError",
    "DatasetNotFoundError",
    "DatasetNotPicklableError",
    "MemoryDataset",
    "SharedMemoryCatalogProtocol",
    "SharedMemoryDataCatalog",
    "SharedMemoryDataset",
    "Version",
    "VersionAlreadyExistsError",
    "VersionNotFoundError",
]

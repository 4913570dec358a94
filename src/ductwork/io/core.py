"""The dataset contract and its helpers, gathered where Kedro users import them from.

The definitions live in small private modules; this module re-exports them under the names of
``kedro.io.core``.
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
from ductwork.io._config import parse_dataset_definition
from ductwork.io._paths import (
    HTTP_PROTOCOLS,
    PROTOCOL_DELIMITER,
    get_filepath_str,
    get_protocol_and_path,
)
from ductwork.io._protocols import CatalogProtocol, SharedMemoryCatalogProtocol
from ductwork.io._version import VERSION_FORMAT, Version, generate_timestamp
from ductwork.io._versioned import AbstractVersionedDataset
from ductwork.io.memory_dataset import TCopyMode

__all__ = [
    "HTTP_PROTOCOLS",
    "PROTOCOL_DELIMITER",
    "VERSION_FORMAT",
    "AbstractDataset",
    "AbstractVersionedDataset",
    "CatalogProtocol",
    "DatasetAlreadyExistsError",
    "DatasetConfigError",
    "DatasetError",
    "DatasetNotFoundError",
    "DatasetNotPicklableError",
    "SharedMemoryCatalogProtocol",
    "TCopyMode",
    "Version",
    "VersionAlreadyExistsError",
    "VersionNotFoundError",
    "generate_timestamp",
    "get_filepath_str",
    "get_protocol_and_path",
    "is_parameter",
    "parse_dataset_definition",
]


def is_parameter(dataset_name: str) -> bool:
    """Return whether a dataset name denotes parameters (``params:...`` or ``parameters``)."""
    return dataset_name.startswith("params:") or dataset_name == "parameters"

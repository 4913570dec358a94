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
from ductwork.io._config import TYPE_KEY, VERSION_KEY, VERSIONED_KEY, parse_dataset_definition
from ductwork.io._paths import (
    CLOUD_PROTOCOLS,
    HTTP_PROTOCOLS,
    PROTOCOL_DELIMITER,
    get_filepath_str,
    get_protocol_and_path,
)
from ductwork.io._protocols import CatalogProtocol, SharedMemoryCatalogProtocol
from ductwork.io._version import VERSION_FORMAT, Version, generate_timestamp
from ductwork.io._versioned import AbstractVersionedDataset
from ductwork.io.memory_dataset import TCopyMode

VERSIONED_FLAG_KEY = VERSIONED_KEY
"""The catalog entry key that turns versioning on (``versioned: true``)."""

__all__ = [
    "CLOUD_PROTOCOLS",
    "HTTP_PROTOCOLS",
    "PROTOCOL_DELIMITER",
    "TYPE_KEY",
    "VERSIONED_FLAG_KEY",
    "VERSION_FORMAT",
    "VERSION_KEY",
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
    "validate_on_forbidden_chars",
]


def is_parameter(dataset_name: str) -> bool:
    """Return whether a dataset name denotes parameters (``params:...`` or ``parameters``)."""
    return dataset_name.startswith("params:") or dataset_name == "parameters"


def validate_on_forbidden_chars(**kwargs: str) -> None:
    """Refuse values that hold a space or a semicolon (e.g. table names spliced into SQL).

    Raises:
        DatasetError: Naming the first keyword whose value holds one.
    """
    for key, value in kwargs.items():
        if " " in value or ";" in value:
            raise DatasetError(f"Neither white-space nor semicolon are allowed in '{key}'.")

"""What the journal records of each dataset: persisted or in memory, its type, and its size.

The catalog is asked before the run (kind and type, without loading anything) and after it
(the size of each persisted local file, and the rows and columns of Parquet files, which their
footer gives without reading the data). Remote files are not measured: asking a store for
sizes can be slow or cost money, and a report must not stall a run that has finished.
"""

from __future__ import annotations

import contextlib
import importlib
import os
from collections.abc import Iterable
from typing import Any

from ductwork.io import CatalogProtocol
from ductwork.io._protocols import file_location
from ductwork.pipeline.transcoding import strip_transcoding
from ductwork.runner.selection import is_persisted

__all__ = ["describe_datasets", "measure_datasets"]


def dataset_names(nodes: Iterable[Any]) -> list[str]:
    """The datasets the nodes read or write, without transcoding suffixes, in first-seen order."""
    names: dict[str, None] = {}
    for node in nodes:
        for name in (*node.inputs, *node.outputs):
            names.setdefault(strip_transcoding(name), None)
    return list(names)


def describe_datasets(catalog: CatalogProtocol, names: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Each dataset's ``persisted`` flag and ``type`` (a class path), by name."""
    described: dict[str, dict[str, Any]] = {}
    get_type = getattr(catalog, "get_type", None)
    for name in names:
        entry: dict[str, Any] = {"persisted": is_persisted(catalog, name)}
        if callable(get_type):
            with contextlib.suppress(Exception):  # a broken entry is the run's to report
                entry["type"] = get_type(name)
        described[name] = entry
    return described


def _local_path(dataset: Any) -> str | None:
    location = file_location(dataset)
    return location[1] if location is not None and location[2] == "file" else None


def _table_shape(path: str) -> tuple[int, int] | None:
    if not path.endswith((".parquet", ".pq")):
        return None
    try:
        parquet = importlib.import_module("pyarrow.parquet")  # optional: the pandas extra
    except ImportError:
        return None
    try:
        metadata = parquet.read_metadata(path)
    except Exception:
        return None
    return int(metadata.num_rows), int(metadata.num_columns)


def measure_datasets(
    catalog: CatalogProtocol, described: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Add ``size`` (bytes), and ``rows`` and ``columns`` where cheap, to persisted datasets."""
    for name, entry in described.items():
        if not entry.get("persisted"):
            continue
        try:
            path = _local_path(catalog.get(name))
        except Exception:
            continue
        if path is None or not os.path.isfile(path):
            continue
        entry["size"] = os.path.getsize(path)
        shape = _table_shape(path)
        if shape is not None:
            entry["rows"], entry["columns"] = shape
    return described

"""Kedro's catalog, as the ductwork catalog of one run, and the free outputs back into it.

ductwork's runners tell in-memory data from persisted data by the dataset's type: in-memory data
stays with the run (shared memory between processes, futures on a Dask cluster) while persisted
datasets are loaded and saved where the node runs. So the run gets a ductwork ``DataCatalog`` of
its own, built from the session's catalog before any node runs:

* Kedro's ``MemoryDataset`` and ``SharedMemoryDataset`` entries (parameters, declared memory
  datasets) become ductwork ``MemoryDataset`` entries with the same data and copy mode;
* every other entry is the session's own dataset object (kedro-datasets CSV, Parquet, ...),
  materialised by the session's catalog, so a versioned dataset keeps the session's save
  version and load versions;
* names the catalog does not declare get ductwork's runtime memory datasets, as in any run.

Configuration errors (a bad entry, missing credentials) therefore surface before any node runs.
After a successful run, the in-memory free outputs are saved into the session's catalog, so
``after_pipeline_run`` and the session's caller find them there.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ductwork.io import DataCatalog, MemoryDataset
from ductwork.io.travel import copy_mode_of
from ductwork.pipeline import Pipeline

__all__ = ["is_kedro_memory", "run_catalog", "save_free_outputs"]

_MEMORY_TYPES = ("MemoryDataset", "SharedMemoryDataset")


def is_kedro_memory(dataset: Any) -> bool:
    """Tell whether ``dataset`` is one of Kedro's in-memory datasets."""
    kind = type(dataset)
    return kind.__name__ in _MEMORY_TYPES and kind.__module__.startswith("kedro.io")


def run_catalog(kedro_catalog: Any, pipeline: Pipeline) -> DataCatalog:
    """The ductwork catalog for a run of ``pipeline`` against the session's ``kedro_catalog``."""
    names = pipeline.datasets() | {name for node in pipeline.nodes for name in node.confirms}
    datasets: dict[str, Any] = {}
    for name in sorted(names):
        if name not in kedro_catalog:
            continue
        dataset = kedro_catalog.get(name)
        datasets[name] = _memory_copy(dataset) if is_kedro_memory(dataset) else dataset
    return DataCatalog(datasets)


def _memory_copy(dataset: Any) -> MemoryDataset:
    copy_mode = copy_mode_of(dataset)
    if dataset.exists():
        return MemoryDataset(data=dataset.load(), copy_mode=copy_mode)
    return MemoryDataset(copy_mode=copy_mode)


def save_free_outputs(
    kedro_catalog: Any, catalog: DataCatalog, names: Iterable[str]
) -> dict[str, Any]:
    """Put the run's in-memory free outputs into ``kedro_catalog``; return Kedro's result.

    Returns:
        Each free output by name, as the session catalog's dataset object (what Kedro's runners
        return from ``run``).
    """
    result: dict[str, Any] = {}
    for name in sorted(names):
        dataset = catalog.get(name)
        if isinstance(dataset, MemoryDataset):
            target = kedro_catalog.get(name) if name in kedro_catalog else None
            if dataset.exists():
                if target is not None and is_kedro_memory(target):
                    target.save(dataset.load())
                else:
                    kedro_catalog[name] = dataset.load()
        if name in kedro_catalog:
            result[name] = kedro_catalog[name]
    return result

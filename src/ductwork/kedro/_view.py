"""The Kedro catalog that node and dataset hooks receive on a worker (a process or a Dask worker).

Kedro's hooks get the session's whole catalog, in its process runner's workers too: every
entry, the parameters, the patterns, and data a hook can load. A ductwork worker holds a
catalog of its own (the run's shipped datasets, and stand-ins whose data arrives for the node
being run), so the hooks there get a view built from both:

* a copy of the session's catalog, sent to each worker once per run, for everything the run
  does not touch (other entries, ``parameters``, patterns, a parameter the node does not read);
* the worker's own dataset objects for what the run loads and saves, so a hook sees what the
  node sees; an in-memory one answers with the data the worker holds, and otherwise with the
  session's (a parameter), as Kedro's shared-memory datasets would.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kedro.io import AbstractDataset, DataCatalog

from ductwork.io.travel import is_in_memory

__all__ = ["HeldDataset", "worker_view"]


class HeldDataset(AbstractDataset):  # type: ignore[misc]
    """One of the run's in-memory datasets as a worker holds it, through Kedro's interface."""

    def __init__(self, held: Any, fallback: Any = None) -> None:
        """Answer with ``held`` when it has data, else with ``fallback`` (the session's)."""
        self._held = held
        self._fallback = fallback

    def _source(self) -> Any:
        if self._held.exists() or self._fallback is None:
            return self._held
        return self._fallback

    # Kedro's base class turns these into load() and save(), with its logging and errors.
    def _load(self) -> Any:
        """The worker's data, else the session's (the worker's error when neither has any)."""
        return self._source().load()

    def _save(self, data: Any) -> None:
        """Save into the worker's dataset (where the node's own outputs go)."""
        self._held.save(data)

    def _exists(self) -> bool:
        return bool(self._source().exists())

    def _describe(self) -> dict[str, Any]:
        return {"held": repr(self._held)}


def worker_view(worker_catalog: Any, session: DataCatalog | None) -> DataCatalog:
    """The catalog a hook on a worker receives: ``session`` (a copy) over ``worker_catalog``.

    ``session`` is changed in place; without one (the session's catalog could not be sent), the
    view holds the worker's datasets only.
    """
    view = session if session is not None else DataCatalog()
    with _replacing_quietly():
        for name in worker_catalog:
            dataset = worker_catalog.get(name)
            if is_in_memory(dataset):
                fallback = view.get(name) if name in view else None
                if isinstance(fallback, HeldDataset):  # a view built before on this copy
                    fallback = fallback._fallback
                view[name] = HeldDataset(dataset, fallback)
            elif isinstance(dataset, AbstractDataset):
                view[name] = dataset
    return view


class _NoReplacingWarning(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Replacing dataset")


@contextmanager
def _replacing_quietly() -> Iterator[None]:
    # Kedro warns when an entry is replaced; here every replacement is the point.
    logger = logging.getLogger(DataCatalog.__module__)
    quiet = _NoReplacingWarning()
    logger.addFilter(quiet)
    try:
        yield
    finally:
        logger.removeFilter(quiet)

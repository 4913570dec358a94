"""A dataset that keeps a copy in memory of what it reads from or writes to another dataset."""

from __future__ import annotations

import logging
from typing import Any

from ductwork.io._abstract import AbstractDataset
from ductwork.io._config import VERSIONED_KEY
from ductwork.io._version import Version
from ductwork.io.memory_dataset import MemoryDataset, TCopyMode

_logger = logging.getLogger(__name__)


class CachedDataset(AbstractDataset[Any, Any]):
    """Wraps a dataset with an in-memory cache.

    The first load reads the wrapped dataset and fills the cache; later loads read the cache.
    A save writes both. The cache lives in one process, so the dataset is ephemeral and marked
    single-process: a process runner refuses it.

    Args:
        dataset: The dataset to wrap, or its catalog entry as a dict.
        version: Versions for the wrapped dataset when it is given as a dict. Versioning is
            declared on the ``CachedDataset`` entry, not inside the wrapped one.
        copy_mode: Copy mode of the cache (see :class:`MemoryDataset`).
        metadata: Free-form information for plugins.

    Raises:
        ValueError: ``dataset`` is neither a dataset nor a dict, or the wrapped entry declares
            ``versioned`` itself.
        DatasetConfigError: The wrapped entry is invalid.
    """

    _EPHEMERAL = True
    _SINGLE_PROCESS = True

    def __init__(
        self,
        dataset: Any,
        version: Version | None = None,
        copy_mode: TCopyMode | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        if isinstance(dataset, dict):
            dataset = self._from_config(dataset, version)
        elif not all(callable(getattr(dataset, m, None)) for m in ("load", "save", "exists")):
            raise ValueError(
                "The argument type of 'dataset' should be either a dict/YAML representation of "
                f"the dataset, or the actual dataset object; got {type(dataset).__name__}."
            )
        self._dataset = dataset
        self._cache = MemoryDataset(copy_mode=copy_mode)
        self.metadata = metadata

    @staticmethod
    def _from_config(config: dict[str, Any], version: Version | None) -> Any:
        if VERSIONED_KEY in config:
            raise ValueError(
                "Cached datasets should specify that they are versioned in the 'CachedDataset', "
                "not in the wrapped dataset: write 'versioned: true' next to "
                "'type: CachedDataset'."
            )
        config = dict(config)
        if version:
            config[VERSIONED_KEY] = True
            return AbstractDataset.from_config("_cached", config, version.load, version.save)
        return AbstractDataset.from_config("_cached", config)

    def load(self) -> Any:
        """Return the cached data, reading the wrapped dataset first if the cache is empty."""
        if self._cache.exists():
            return self._cache.load()
        data = self._dataset.load()
        self._cache.save(data)
        return data

    def save(self, data: Any) -> None:
        """Save to the wrapped dataset, then keep a copy in the cache."""
        self._dataset.save(data)
        self._cache.save(data)

    def _exists(self) -> bool:
        return bool(self._cache.exists() or self._dataset.exists())

    def _release(self) -> None:
        self._cache.release()
        self._dataset.release()

    def _init_config(self) -> dict[str, Any]:
        """The entry that recreates this dataset: the wrapped dataset's entry nested under
        ``dataset``, and versioning declared on the ``CachedDataset`` (where it must be)."""
        config: dict[str, Any] = {
            "type": f"{type(self).__module__}.{type(self).__qualname__}",
            "copy_mode": self._cache._copy_mode,
        }
        inner = self._dataset
        wrapped = inner._init_config() if isinstance(inner, AbstractDataset) else {}
        if wrapped.pop(VERSIONED_KEY, False):
            config[VERSIONED_KEY] = True
        config["dataset"] = wrapped
        if self.metadata is not None:
            config["metadata"] = self.metadata
        return config

    def _describe(self) -> dict[str, Any]:
        # The objects themselves, so that each is shown with its own (redacted) repr.
        return {"dataset": self._dataset, "cache": self._cache}

    def __getstate__(self) -> dict[str, Any]:
        # The cache is per process: a copy in another process starts empty (and this one keeps
        # its own data, unlike clearing the cache to pickle it).
        _logger.debug("%s: the cache is not sent along when pickled.", type(self).__name__)
        state = self.__dict__.copy()
        state["_cache"] = MemoryDataset(copy_mode=self._cache._copy_mode)
        return state

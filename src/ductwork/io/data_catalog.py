"""The data catalog: datasets by name, declared in code or configuration, made on demand.

A name is found, in order, among the datasets already created, the configured entries not yet
created ("lazy"), the user's factory patterns and catch-all, and finally the catalog class's
runtime default (a memory dataset), which only applies when asked for with
``fallback_to_runtime_pattern=True``. A created dataset is kept, so each name is created once.

Thread safety: one re-entrant lock guards the changes to the catalog's dictionaries, so the
creation of datasets from entries and patterns is safe from many threads (each name is created
exactly once, checked again under the lock). Finding a dataset that already exists takes no
lock: a dictionary lookup is atomic, and it is what every load, save and release of a run does.
The lock is never held while a dataset loads or saves, so threads do not queue behind each
other's I/O.

Pickling: the lock is left out and recreated, so a catalog (or a :meth:`DataCatalog.subset` of it)
can be sent to worker processes.
"""

from __future__ import annotations

import copy
import difflib
import importlib
import logging
import re
import threading
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar, TypeVar

from ductwork.exceptions import DatasetError, DatasetNotFoundError
from ductwork.io._catalog_support import (
    _LazyDataset,
    as_dataset,
    catalog_entries,
    check_load_version_names,
    check_versions,
    filter_names,
    prefixed_error,
    split_credentials,
)
from ductwork.io._config import class_path, resolve_dataset_type
from ductwork.io._version import Version, check_version_string, generate_timestamp
from ductwork.io._versioned import AbstractVersionedDataset
from ductwork.io.catalog_config_resolver import CatalogConfigResolver, Patterns
from ductwork.io.travel import is_in_memory

_logger = logging.getLogger(__name__)

_C = TypeVar("_C", bound="DataCatalog")


class DataCatalog:
    """Datasets by name, for runners to load from and save to.

    Args:
        datasets: Datasets by name. A value that is not a dataset (an object without ``load``,
            ``save``, ``exists`` and ``release``) is wrapped in a ``MemoryDataset``.
        config_resolver: Configured entries and patterns, usually made by :meth:`from_config`.
        load_versions: Version to load, by dataset name, for versioned datasets.
        save_version: Version every versioned dataset saves (one per run).

    Raises:
        VersionAlreadyExistsError: A dataset's versions contradict the catalog's.

    Example:
        >>> catalog = DataCatalog({"numbers": [1, 2, 3]})
        >>> catalog.load("numbers")
        [1, 2, 3]
    """

    default_runtime_patterns: ClassVar[Patterns] = {
        "{default}": {"type": "ductwork.io.MemoryDataset"}
    }

    # Whether load, save and release may take a created dataset straight from `_datasets`, one
    # call shorter than through get() or []. A subclass that overrides either of those has its
    # own lookup called every time instead.
    _direct_lookup: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._direct_lookup = (
            cls.get is DataCatalog.get and cls.__getitem__ is DataCatalog.__getitem__
        )

    def __init__(
        self,
        datasets: dict[str, Any] | None = None,
        config_resolver: CatalogConfigResolver | None = None,
        load_versions: dict[str, str] | None = None,
        save_version: str | None = None,
    ) -> None:
        self._lock = threading.RLock()
        self._config_resolver = config_resolver or CatalogConfigResolver(
            default_runtime_patterns=self.default_runtime_patterns
        )
        self._datasets: dict[str, Any] = {k: as_dataset(v) for k, v in (datasets or {}).items()}
        self._lazy_datasets: dict[str, _LazyDataset] = {}
        self._load_versions, self._save_version = check_versions(
            self._datasets, dict(load_versions or {}), save_version
        )
        for name, config in self._config_resolver.config.items():
            if name in self._datasets:
                _logger.warning(
                    "Cannot register dataset '%s' from config: a dataset of that name is passed "
                    "in, and it is kept; the configured entry is dropped.",
                    name,
                )
                continue
            self._lazy_datasets[name] = self._lazy(name, config)
        for name in self._datasets.keys() & self._config_resolver.config.keys():
            del self._config_resolver.config[name]

    def _lazy(self, name: str, config: dict[str, Any]) -> _LazyDataset:
        return _LazyDataset(name, config, self._load_versions.get(name), self._save_version)

    @classmethod
    def from_config(
        cls: type[_C],
        catalog: dict[str, dict[str, Any]] | None = None,
        credentials: dict[str, Any] | None = None,
        load_versions: dict[str, str] | None = None,
        save_version: str | None = None,
    ) -> _C:
        """Create a catalog from configuration (the structure of a ``catalog.yml``).

        Args:
            catalog: Entries by name; each has a ``type`` and the dataset's arguments. Names with
                ``{placeholders}`` are factory patterns.
            credentials: Credentials by name, referred to by entries as ``credentials: <name>``.
            load_versions: Version to load, by dataset name.
            save_version: Version all versioned datasets save; by default a timestamp taken
                now, the same for every dataset of the catalog.

        Raises:
            DatasetConfigError: An entry is malformed (the message names it and the bad key).
            DatasetNotFoundError: ``load_versions`` names a dataset the catalog does not have.
        """
        resolver = CatalogConfigResolver(catalog, credentials, cls.default_runtime_patterns)
        check_load_version_names(resolver, load_versions or {})
        # One save version for the whole catalog, so the outputs of one run are found together.
        save_version = save_version or generate_timestamp()
        return cls(config_resolver=resolver, load_versions=load_versions, save_version=save_version)

    # --- lookup -----------------------------------------------------------------------------------

    @property
    def config_resolver(self) -> CatalogConfigResolver:
        """The resolver holding this catalog's configuration and patterns."""
        return self._config_resolver

    def __contains__(self, ds_name: object) -> bool:
        """Whether ``ds_name`` is declared: created, configured, or matched by a user pattern.

        The runtime default does not count: it would match every name.
        """
        if not isinstance(ds_name, str):
            return False
        if ds_name in self._datasets:  # read without the lock, as in get()
            return True
        with self._lock:
            return (
                ds_name in self._datasets
                or ds_name in self._lazy_datasets
                or self._config_resolver.match_pattern(ds_name) is not None
            )

    def get(
        self, key: str, fallback_to_runtime_pattern: bool = False, version: str | None = None
    ) -> Any:
        """Return the dataset called ``key``, creating (and keeping) it if needed.

        Args:
            key: Dataset name.
            fallback_to_runtime_pattern: Create an undeclared name from the runtime default
                (a memory dataset) instead of returning ``None``.
            version: For a versioned dataset, return a copy that loads this version; the
                catalog's own dataset is unchanged.

        Returns:
            The dataset, or ``None`` if the name is undeclared and there is no fallback.

        Raises:
            DatasetConfigError: The name's configuration cannot be turned into a dataset.
        """
        dataset = self._datasets.get(key)  # created datasets are read without the lock
        if dataset is None:
            with self._lock:  # checked again under the lock, so each name is created once
                dataset = self._datasets.get(key)
                if dataset is None:
                    dataset = self._materialise(key, fallback_to_runtime_pattern)
        if dataset is not None and version and isinstance(dataset, AbstractVersionedDataset):
            check_version_string(version)
            dataset = dataset._copy(_version=Version(version, None))
        return dataset

    def _materialise(self, key: str, fallback: bool) -> Any:
        """Create the dataset for ``key`` from its entry or a pattern. Call with the lock held."""
        lazy = self._lazy_datasets.get(key)
        if lazy is None:
            if self._config_resolver.match_pattern(key) is None:
                if not fallback:
                    return None
                dataset = self._plain_runtime_dataset(key)
                if dataset is not None:
                    self._datasets[key] = dataset
                    return dataset
            lazy = self._lazy(key, self._config_resolver.resolve_pattern(key))
        dataset = lazy.materialize()
        self._datasets[key] = dataset
        self._lazy_datasets.pop(key, None)
        return dataset

    def _plain_runtime_dataset(self, key: str) -> Any:
        type_value = self._config_resolver.plain_runtime_type(key)
        return None if type_value is None else resolve_dataset_type(type_value, key)()

    def _not_found(self, name: str) -> DatasetNotFoundError:
        return DatasetNotFoundError(_NotFoundMessage(name, self.keys()))

    def _dataset(self, ds_name: str) -> Any:
        """``self[ds_name]``, one call shorter for the datasets already created (every save
        and release of a run goes through here)."""
        dataset = self._datasets.get(ds_name) if self._direct_lookup else None
        return self[ds_name] if dataset is None else dataset

    def __getitem__(self, ds_name: str) -> Any:
        """Return the dataset called ``ds_name``.

        Raises:
            DatasetNotFoundError: The name is not declared.
        """
        dataset = self.get(ds_name)
        if dataset is None:
            raise self._not_found(ds_name)
        return dataset

    def __setitem__(self, key: str, value: Any) -> None:
        """Add or replace a dataset; a value that is not a dataset becomes a MemoryDataset."""
        with self._lock:
            if key in self._datasets or key in self._lazy_datasets:
                _logger.warning("Replacing dataset '%s'", key)
            self._datasets.pop(key, None)
            self._lazy_datasets.pop(key, None)
            self._config_resolver.config.pop(key, None)
            self._load_versions.pop(key, None)
            if isinstance(value, _LazyDataset):
                self._lazy_datasets[key] = value
                return
            dataset = as_dataset(value)
            self._load_versions, self._save_version = check_versions(
                {key: dataset}, self._load_versions, self._save_version
            )
            self._datasets[key] = dataset

    def _ipython_key_completions_(self) -> list[str]:
        """The names IPython and Jupyter offer after ``catalog["``."""
        return self.keys()

    def keys(self) -> list[str]:
        """Return the names: configured entries not created yet, then created datasets."""
        with self._lock:
            return [*self._lazy_datasets, *self._datasets]

    def values(self) -> list[Any]:
        """Return every dataset, creating configured ones."""
        return [self[key] for key in self.keys()]

    def items(self) -> list[tuple[str, Any]]:
        """Return ``(name, dataset)`` pairs, creating configured datasets."""
        return [(key, self[key]) for key in self.keys()]

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self.keys())

    # --- data -------------------------------------------------------------------------------------

    def load(self, ds_name: str, version: str | None = None) -> Any:
        """Load the data of ``ds_name`` (optionally a given version).

        Raises:
            DatasetNotFoundError: The name is not declared.
            DatasetError: Loading failed; the message starts with ``"<ds_name>: "``.
        """
        dataset = self._datasets.get(ds_name) if version is None and self._direct_lookup else None
        if dataset is None:
            dataset = self.get(ds_name, version=version)
            if dataset is None:
                raise self._not_found(ds_name)
        if _logger.isEnabledFor(logging.INFO):
            _logger.info("Loading data from %s (%s)...", ds_name, type(dataset).__name__)
        try:
            return dataset.load()
        except DatasetError as err:
            raise prefixed_error(ds_name, err) from err

    def save(self, ds_name: str, data: Any) -> None:
        """Save ``data`` to ``ds_name``.

        Raises:
            DatasetNotFoundError: The name is not declared.
            DatasetError: Saving failed; the message starts with ``"<ds_name>: "``.
        """
        dataset = self._dataset(ds_name)
        if _logger.isEnabledFor(logging.INFO):
            _logger.info("Saving data to %s (%s)...", ds_name, type(dataset).__name__)
        try:
            dataset.save(data)
        except DatasetError as err:
            raise prefixed_error(ds_name, err) from err

    def exists(self, ds_name: str) -> bool:
        """Return whether the data of ``ds_name`` exists; ``False`` for undeclared names."""
        dataset = self.get(ds_name)
        return False if dataset is None else bool(dataset.exists())

    def release(self, ds_name: str) -> None:
        """Let ``ds_name`` free the data it holds in memory."""
        self._dataset(ds_name).release()

    def confirm(self, ds_name: str) -> None:
        """Call ``confirm()`` on ``ds_name``.

        Raises:
            DatasetError: The dataset has no ``confirm`` method.
        """
        dataset = self[ds_name]
        if not callable(getattr(dataset, "confirm", None)):
            raise DatasetError(f"Dataset '{ds_name}' does not have 'confirm' method")
        _logger.info("Confirming dataset '%s'", ds_name)
        dataset.confirm()

    # --- what a run asks of its catalog -----------------------------------------------------------

    def is_ephemeral(self, ds_name: str) -> bool:
        """Return whether the data of ``ds_name`` lives only in memory during a run.

        True for datasets flagged ``_EPHEMERAL`` (memory, shared-memory and cached datasets) and
        for undeclared names (the runtime default will hold them in memory); False for
        persistent datasets. A configured entry is created here, once, and kept, so asking
        again costs a dictionary lookup and a later ``get`` returns the same object.
        """
        return is_in_memory(self.get(ds_name))

    def forget(self, names: Iterable[str]) -> None:
        """Remove the datasets ``names`` from the catalog, if present (a run's intermediates).

        A runner calls this when a run ends, for the datasets it created for undeclared names
        that are not free outputs; a name declared by configuration or a pattern stays declared.
        """
        with self._lock:
            for name in names:
                self._datasets.pop(name, None)

    def subset(self: _C, names: Iterable[str]) -> _C:
        """Return a catalog of the same class holding only ``names``.

        The dataset objects are shared, not copied; configured entries stay lazy; factory
        patterns and versions carry over. For code that should see only part of a catalog (no
        runner needs it: they ask for datasets by name).

        Raises:
            DatasetNotFoundError: A name is not declared in this catalog.
        """
        wanted = list(dict.fromkeys(names))
        with self._lock:
            missing = [name for name in wanted if name not in self]
            if missing:
                raise DatasetNotFoundError(
                    f"Cannot take a subset: {missing} not found in the catalog."
                )
            clone = copy.copy(self)  # via __getstate__: fresh lock, copied dicts
            clone._datasets = {n: self._datasets[n] for n in wanted if n in self._datasets}
            clone._lazy_datasets = {
                n: self._lazy_datasets[n] for n in wanted if n in self._lazy_datasets
            }
            clone._config_resolver = self._config_resolver.subset(wanted)
            clone._load_versions = {
                n: v for n, v in self._load_versions.items() if n in set(wanted)
            }
        return clone

    # --- description ------------------------------------------------------------------------------

    def filter(
        self,
        name_regex: re.Pattern[str] | str | None = None,
        type_regex: re.Pattern[str] | str | None = None,
        by_type: type | list[type] | None = None,
    ) -> list[str]:
        """Return the names matching every given criterion.

        Args:
            name_regex: Searched in each name.
            type_regex: Searched in each dataset's class path (``module.Class``).
            by_type: A class or classes; a dataset matches if its class is one of them.
        """
        return filter_names(self.keys(), self.get_type, name_regex, type_regex, by_type)

    def get_type(self, ds_name: str) -> str | None:
        """Return the class path of ``ds_name``'s dataset without creating it; ``None`` if absent.

        Raises:
            DatasetConfigError: The configured ``type`` is not a dataset class.
        """
        with self._lock:
            if ds_name not in self:
                return None
            dataset = self._datasets.get(ds_name)
            if dataset is not None:
                return class_path(type(dataset))
            lazy = self._lazy_datasets.get(ds_name)
            config = lazy.config if lazy else self._config_resolver.resolve_pattern(ds_name)
        return class_path(resolve_dataset_type(config.get("type"), ds_name))

    def to_config(
        self,
    ) -> tuple[dict[str, dict[str, Any]], dict[str, Any], dict[str, str], str | None]:
        """Return configuration that recreates this catalog with :meth:`from_config`.

        Memory datasets (which hold data, not configuration) and datasets without recorded
        arguments (from other libraries) are left out.

        Returns:
            ``(catalog, credentials, load_versions, save_version)``; credentials are moved out of
            the entries into ``credentials`` and referred to by name.
        """
        with self._lock:
            entries = catalog_entries(
                self._config_resolver.pattern_configs(), self._lazy_datasets, self._datasets
            )
            load_versions = {n: v for n, v in self._load_versions.items() if n in entries}
        catalog, credentials = split_credentials(entries)
        return catalog, credentials, load_versions, self._save_version

    def __repr__(self) -> str:
        with self._lock:
            shown = {**self._lazy_datasets, **self._datasets}
        return f"{type(self).__name__}({shown!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DataCatalog):
            return NotImplemented
        return (
            self._datasets,
            self._lazy_datasets,
            self._config_resolver.list_patterns(),
        ) == (other._datasets, other._lazy_datasets, other._config_resolver.list_patterns())

    __hash__ = None  # type: ignore[assignment]  # mutable

    # --- pickling ---------------------------------------------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        with self._lock:
            state = self.__dict__.copy()
            state["_datasets"] = dict(self._datasets)
            state["_lazy_datasets"] = dict(self._lazy_datasets)
            state["_load_versions"] = dict(self._load_versions)
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()


def __getattr__(name: str) -> Any:
    # Kedro users import SharedMemoryDataCatalog from here; it lives in its own module, which
    # imports this one, so it is looked up on first use rather than imported at the top.
    if name == "SharedMemoryDataCatalog":
        return importlib.import_module("ductwork.io.shared_memory_catalog").SharedMemoryDataCatalog
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _NotFoundMessage:
    """A missing name's message, with the close names it suggests worked out when first read.

    Comparing the name with every entry takes a fraction of a second in a catalog of thousands,
    and code that catches the error (looking up a name that may be absent) never reads it.
    """

    def __init__(self, name: str, names: list[str]) -> None:
        self._name = name
        self._names: list[str] | None = names
        self._text = f"Dataset '{name}' not found in the catalog"

    def __str__(self) -> str:
        if self._names is not None:
            close = difflib.get_close_matches(self._name, self._names)
            if close:
                self._text += f" - did you mean one of these instead: {', '.join(close)}"
            self._names = None
        return self._text

    def __repr__(self) -> str:
        return repr(str(self))

    def __reduce__(self) -> tuple[Any, ...]:  # travels as the finished text
        return (str, (str(self),))

"""Pieces of the data catalog that need no catalog state: lazy entries, version checks, to_config.

Kept apart from :mod:`ductwork.io.data_catalog` so that the catalog module reads as the catalog's
behaviour only.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from typing import Any

from ductwork.exceptions import DatasetError, DatasetNotFoundError, VersionAlreadyExistsError
from ductwork.io._abstract import AbstractDataset
from ductwork.io._config import build_dataset, class_path
from ductwork.io._version import check_version_string
from ductwork.io._versioned import AbstractVersionedDataset
from ductwork.io.cached_dataset import CachedDataset
from ductwork.io.catalog_config_resolver import CatalogConfigResolver
from ductwork.io.memory_dataset import MemoryDataset, _is_memory_dataset

_DATASET_METHODS = ("load", "save", "exists", "release")


class _LazyDataset:
    """A catalog entry whose dataset is created on first use.

    Creating datasets lazily means a catalog of many entries costs nothing until a run touches
    them, and a configuration error surfaces for the entry that is used.
    """

    __slots__ = ("config", "load_version", "name", "save_version")

    def __init__(
        self,
        name: str,
        config: dict[str, Any],
        load_version: str | None = None,
        save_version: str | None = None,
    ) -> None:
        self.name = name
        self.config = config
        self.load_version = load_version
        self.save_version = save_version

    def materialize(self) -> Any:
        """Create the dataset (from a copy of the configuration, which stays untouched)."""
        return build_dataset(
            self.name, copy.deepcopy(self.config), self.load_version, self.save_version
        )

    def __repr__(self) -> str:
        # The type only: the rest of the entry may hold credentials.
        return str(self.config.get("type"))


def is_dataset(obj: Any) -> bool:
    """Return whether ``obj`` is a dataset: an AbstractDataset or anything with its methods."""
    return isinstance(obj, AbstractDataset) or all(
        callable(getattr(obj, method, None)) for method in _DATASET_METHODS
    )


def as_dataset(value: Any) -> Any:
    """Return ``value`` if it is a dataset, else a MemoryDataset holding it."""
    return value if is_dataset(value) else MemoryDataset(data=value)


def check_versions(
    datasets: Mapping[str, Any], load_versions: dict[str, str], save_version: str | None
) -> tuple[dict[str, str], str | None]:
    """Check that datasets agree with the catalog's versions, and adopt theirs where unset.

    All versioned datasets of a catalog save the same version, so the outputs of one run can be
    found together.

    Returns:
        The load versions and the save version, completed from the datasets.

    Raises:
        VersionAlreadyExistsError: A dataset's load or save version contradicts the catalog's.
        DatasetError: A version string is not allowed (see ``check_version_string``).
    """
    check_version_string(save_version, "catalog save version")
    for name, pinned in load_versions.items():
        check_version_string(pinned, f"load version of '{name}'")
    for name, given in datasets.items():
        # A CachedDataset's versions are those of the dataset it wraps.
        dataset = given._dataset if isinstance(given, CachedDataset) else given
        version = getattr(dataset, "_version", None)
        if not isinstance(dataset, AbstractVersionedDataset) or version is None:
            continue
        if version.load and load_versions.setdefault(name, version.load) != version.load:
            raise VersionAlreadyExistsError(
                f"Cannot add dataset '{name}' loading version '{version.load}': the catalog "
                f"loads version '{load_versions[name]}' of it."
            )
        if version.save:
            save_version = save_version or version.save
            if save_version != version.save:
                raise VersionAlreadyExistsError(
                    f"Cannot add dataset '{name}' saving version '{version.save}': the catalog "
                    f"saves version '{save_version}'. All datasets of a catalog save one version."
                )
    return load_versions, save_version


def prefixed_error(name: str, err: DatasetError) -> DatasetError:
    """Return ``err`` with its message prefixed by ``"<name>: "``, keeping its class if possible."""
    message = f"{name}: {err}"
    try:
        prefixed = type(err)(message)
    except Exception:  # a subclass with another constructor signature
        return DatasetError(message)
    return prefixed if str(prefixed) == message else DatasetError(message)


def filter_names(
    names: list[str],
    get_type: Callable[[str], str | None],
    name_regex: re.Pattern[str] | str | None,
    type_regex: re.Pattern[str] | str | None,
    by_type: type | list[type] | None,
) -> list[str]:
    """Return the ``names`` that match every given criterion (see ``DataCatalog.filter``)."""
    if name_regex:
        names = [name for name in names if re.search(name_regex, name)]
    if by_type:
        wanted = {class_path(t) for t in (by_type if isinstance(by_type, list) else [by_type])}
        names = [name for name in names if get_type(name) in wanted]
    if type_regex:
        names = [name for name in names if re.search(type_regex, get_type(name) or "")]
    return names


def check_load_version_names(
    resolver: CatalogConfigResolver, load_versions: Mapping[str, str]
) -> None:
    """Refuse load versions for names the configuration does not declare.

    Raises:
        DatasetNotFoundError: Naming the unknown keys.
    """
    unknown = sorted(
        name
        for name in load_versions
        if name not in resolver.config and resolver.match_pattern(name) is None
    )
    if unknown:
        raise DatasetNotFoundError(
            f"'load_versions' keys [{', '.join(unknown)}] are not found in the catalog."
        )


def _credential_prefix(name: str) -> str:
    return re.sub(r"\W", "_", name).strip("_") or "dataset"


def catalog_entries(
    patterns: dict[str, dict[str, Any]],
    lazy: Mapping[str, _LazyDataset],
    datasets: Mapping[str, Any],
) -> dict[str, dict[str, Any]]:
    """Return the configuration of patterns, lazy entries and created datasets, by name.

    Memory datasets hold data rather than configuration, and datasets from other libraries have
    no recorded arguments, so neither has an entry.
    """
    entries = dict(patterns)
    for name, entry in lazy.items():
        if not _is_memory_dataset(str(entry.config.get("type", ""))):
            entries[name] = copy.deepcopy(entry.config)
    for name, dataset in datasets.items():
        if not _is_memory_dataset(dataset) and isinstance(dataset, AbstractDataset):
            entries[name] = dataset._init_config()
    return entries


def split_credentials(
    entries: Mapping[str, dict[str, Any]],
) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """Split configurations into entries with credential references and the credentials."""
    catalog: dict[str, dict[str, Any]] = {}
    credentials: dict[str, Any] = {}
    for name, entry in entries.items():
        unresolved, found = CatalogConfigResolver.unresolve_credentials(
            _credential_prefix(name), entry
        )
        catalog[name] = unresolved
        credentials.update(found)
    return catalog, credentials

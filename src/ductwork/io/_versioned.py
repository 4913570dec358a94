"""Datasets that keep every save in its own timestamped folder.

Layout: ``<filepath>/<version>/<basename of filepath>``. The newest version is the greatest
folder name, which for generated timestamps is the latest in time. A save never overwrites a
version: it goes to a new folder, and a version that already exists is an error.
"""

from __future__ import annotations

import abc
import functools
import glob
import os
import threading
import warnings
from collections.abc import Callable, Iterable
from pathlib import PurePosixPath
from typing import Any, TypeVar

from ductwork.exceptions import DatasetError, VersionAlreadyExistsError, VersionNotFoundError
from ductwork.io._abstract import AbstractDataset
from ductwork.io._version import Version, check_version, generate_timestamp

_DI = TypeVar("_DI")
_DO = TypeVar("_DO")

# The save version in use by each save in progress, per thread, keyed by id(dataset). Kept out of
# the instance so that a dataset holds no per-save state (and stays picklable and shareable).
_saving = threading.local()


def _saves_in_progress() -> dict[int, str]:
    versions: dict[int, str] | None = getattr(_saving, "versions", None)
    if versions is None:
        versions = _saving.versions = {}
    return versions


def _local_glob(pattern: str) -> Iterable[str]:
    return glob.iglob(pattern)


class AbstractVersionedDataset(AbstractDataset[_DI, _DO], abc.ABC):
    """Base class of file-like datasets that can be versioned.

    Subclasses read from :meth:`_get_load_path` and write to :meth:`_get_save_path`; with
    ``version=None`` both are simply ``filepath``.

    Args:
        filepath: Path of the data (without any version part).
        version: Versions to load and save, or ``None`` for an unversioned dataset.
        exists_function: Tells whether a path exists (default: the local filesystem's).
        glob_function: Lists paths matching a glob pattern (default: the local filesystem's).

    Raises:
        DatasetError: A version string would escape the dataset's folder.
    """

    def __init__(
        self,
        filepath: PurePosixPath,
        version: Version | None,
        exists_function: Callable[[str], bool] | None = None,
        glob_function: Callable[[str], Iterable[str]] | None = None,
    ) -> None:
        check_version(version)
        self._filepath = filepath
        self._version = version
        self._exists_function = exists_function or os.path.exists
        self._glob_function = glob_function or _local_glob

    # --- versions ---------------------------------------------------------------------------------

    def _get_versioned_path(self, version: str) -> PurePosixPath:
        return self._filepath / version / self._filepath.name

    def _fetch_latest_load_version(self) -> str:
        folder = str(self._filepath)
        if self._glob_function is _local_glob:
            folder = glob.escape(folder)  # brackets in a local file name are not a pattern
        pattern = f"{folder}/*/{glob.escape(self._filepath.name)}"
        try:
            candidates = sorted(self._glob_function(pattern), reverse=True)
        except Exception as err:
            raise VersionNotFoundError(
                f"Did not find any versions for {self}: listing them failed, which could be due "
                f"to insufficient permission. Exception: {err}"
            ) from err
        for candidate in candidates:
            if self._exists_function(candidate):
                return PurePosixPath(candidate).parent.name
        raise VersionNotFoundError(f"Did not find any versions for {self}")

    def resolve_load_version(self) -> str | None:
        """Return the version to load: the pinned one, else the newest; ``None`` if unversioned.

        Raises:
            VersionNotFoundError: Versioned, nothing pinned, and no version saved yet.
        """
        if not self._version:
            return None
        if self._version.load:
            return self._version.load
        return self._fetch_latest_load_version()

    def resolve_save_version(self) -> str | None:
        """Return the version the current (or next) save writes; ``None`` if unversioned."""
        if not self._version:
            return None
        if self._version.save:
            return self._version.save
        return _saves_in_progress().get(id(self)) or generate_timestamp()

    def _get_load_path(self) -> PurePosixPath:
        version = self.resolve_load_version()
        return self._filepath if version is None else self._get_versioned_path(version)

    def _get_save_path(self) -> PurePosixPath:
        version = self.resolve_save_version()
        if version is None:
            return self._filepath
        path = self._get_versioned_path(version)
        if self._exists_function(str(path)):
            raise VersionAlreadyExistsError(
                f"Save path '{path}' for {self} must not exist if versioning is enabled."
            )
        return path

    def _exists(self) -> bool:
        try:
            path = self._get_load_path()
        except VersionNotFoundError:
            return False
        return bool(self._exists_function(str(path)))

    def exists(self) -> bool:
        """Return whether the version to load exists; ``False`` when no version was saved yet
        (also for a subclass whose own ``_exists`` lets ``VersionNotFoundError`` through).

        Raises:
            DatasetError: The check itself failed.
        """
        try:
            return super().exists()
        except VersionNotFoundError:
            return False

    # --- save wrapper -----------------------------------------------------------------------------

    @classmethod
    def _save_wrapper(cls, save_func: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
        """Fix one save version for the duration of each save, then wrap as any dataset."""

        @functools.wraps(save_func)
        def save(self: AbstractVersionedDataset[Any, Any], data: Any) -> None:
            if not self._version:
                save_func(self, data)
                return
            in_progress = _saves_in_progress()
            save_version = self._version.save or generate_timestamp()
            in_progress[id(self)] = save_version
            try:
                save_func(self, data)
            except (FileExistsError, FileNotFoundError, NotADirectoryError) as err:
                raise DatasetError(self._blocked_version_message(err)) from err
            finally:
                in_progress.pop(id(self), None)
            self._warn_if_inconsistent(save_version)

        return super()._save_wrapper(save)

    def _blocked_version_message(self, err: OSError) -> str:
        name = self._filepath.name
        return (
            f"Cannot save versioned dataset '{name}' to '{self._filepath.parent.as_posix()}' "
            "because a file with the same name already exists in the directory "
            f"({type(err).__name__}: {err}). This is likely a file saved before versioning was "
            f"enabled: move it to '{self._filepath.as_posix()}/<version>/{name}' or remove it."
        )

    def _warn_if_inconsistent(self, save_version: str) -> None:
        assert self._version is not None  # only called for versioned saves
        if self._version.load and self._version.load != save_version:
            warnings.warn(
                f"Save version '{save_version}' did not match load version "
                f"'{self._version.load}' for {self}: a load after this save does not return "
                "what was just saved. Pin load versions only for datasets nothing in the run "
                "writes.",
                UserWarning,
                stacklevel=3,
            )

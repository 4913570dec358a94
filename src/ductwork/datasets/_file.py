"""The base of ductwork's file datasets: fsspec paths, versioning and atomic saves.

A concrete dataset only says how to read and write a stream (``_read``/``_write``) and whether
the stream is binary; opening files, credentials, versions and atomic replacement are here, once.
"""

from __future__ import annotations

import abc
import copy
from pathlib import PurePosixPath
from typing import IO, Any, ClassVar, TypeVar

import fsspec

from ductwork.datasets._atomic import atomic_open
from ductwork.exceptions import VersionNotFoundError
from ductwork.io._paths import PROTOCOL_DELIMITER, get_filepath_str, get_protocol_and_path
from ductwork.io._version import Version
from ductwork.io._versioned import AbstractVersionedDataset

_DI = TypeVar("_DI")
_DO = TypeVar("_DO")


class FileDataset(AbstractVersionedDataset[_DI, _DO], abc.ABC):
    """A dataset stored in one file on any fsspec filesystem (local by default).

    Args:
        filepath: Local path or URL (``s3://bucket/x.pkl``); the protocol picks the filesystem,
            whose package must be installed.
        load_args: Extra arguments for the reading function.
        save_args: Extra arguments for the writing function.
        version: Versions to load and save; ``None`` for an unversioned dataset.
        credentials: Passed to the filesystem (e.g. ``{"key": ..., "secret": ...}``); never
            shown in reprs or messages.
        fs_args: Passed to the filesystem, except ``open_args_load``/``open_args_save``, which
            are passed when opening the file (e.g. ``{"encoding": "latin-1"}``).
        metadata: Free-form information for plugins; not used by ductwork.
    """

    _BINARY: ClassVar[bool] = True
    DEFAULT_LOAD_ARGS: ClassVar[dict[str, Any]] = {}
    DEFAULT_SAVE_ARGS: ClassVar[dict[str, Any]] = {}

    def __init__(
        self,
        *,
        filepath: str,
        load_args: dict[str, Any] | None = None,
        save_args: dict[str, Any] | None = None,
        version: Version | None = None,
        credentials: dict[str, Any] | None = None,
        fs_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        protocol, path = get_protocol_and_path(filepath, version)
        fs_args = copy.deepcopy(fs_args or {})
        text_defaults = {} if self._BINARY else {"encoding": "utf-8"}
        self._open_args_load = {**text_defaults, **fs_args.pop("open_args_load", {})}
        self._open_args_save = {**text_defaults, **fs_args.pop("open_args_save", {})}
        # The mode follows from the format, whatever the open arguments say.
        self._open_args_load.pop("mode", None)
        self._open_args_save.pop("mode", None)
        self._protocol = protocol
        # Credentials win over fs_args, so a key given in both cannot be a TypeError.
        self._fs = fsspec.filesystem(protocol, **{**fs_args, **(credentials or {})})
        super().__init__(
            filepath=PurePosixPath(path),
            version=version,
            exists_function=self._fs.exists,
            glob_function=self._fs.glob,
        )
        self._load_args = {**self.DEFAULT_LOAD_ARGS, **(load_args or {})}
        self._save_args = {**self.DEFAULT_SAVE_ARGS, **(save_args or {})}
        self.metadata = metadata

    @abc.abstractmethod
    def _read(self, stream: IO[Any]) -> _DO:
        """Read the data from an open file."""

    @abc.abstractmethod
    def _write(self, stream: IO[Any], data: _DI) -> None:
        """Write ``data`` to an open file."""

    def _path_str(self, path: PurePosixPath) -> str:
        return get_filepath_str(path, self._protocol)

    def load(self) -> _DO:
        """Read the file (the pinned or newest version, if versioned)."""
        path = self._path_str(self._get_load_path())
        with self._fs.open(path, mode="rb" if self._BINARY else "r", **self._open_args_load) as f:
            return self._read(f)

    def save(self, data: _DI) -> None:
        """Write the file; locally the old file stays whole until the new one is complete."""
        path = self._path_str(self._get_save_path())
        with atomic_open(
            self._fs, path, "wb" if self._BINARY else "w", **self._open_args_save
        ) as f:
            self._write(f, data)
        self._invalidate_cache()

    def _exists(self) -> bool:
        try:
            path = self._get_load_path()
        except VersionNotFoundError:
            return False
        return bool(self._fs.exists(self._path_str(path)))

    def _release(self) -> None:
        super()._release()
        self._invalidate_cache()

    def _invalidate_cache(self) -> None:
        """Forget cached listings, so a remote filesystem sees what was just written."""
        self._fs.invalidate_cache(self._path_str(self._filepath))

    def _describe(self) -> dict[str, Any]:
        shown = self._filepath.as_posix()
        if self._protocol != "file":
            shown = f"{self._protocol}{PROTOCOL_DELIMITER}{shown}"
        return {
            "filepath": shown,
            "protocol": self._protocol,
            "load_args": self._load_args or None,
            "save_args": self._save_args or None,
            "version": self._version,
        }

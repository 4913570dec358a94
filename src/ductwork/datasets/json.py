"""``JSONDataset``: JSON-compatible data in a text file."""

from __future__ import annotations

import json
from typing import IO, Any, ClassVar

from ductwork.datasets._file import FileDataset


class JSONDataset(FileDataset[Any, Any]):
    """Saves JSON-compatible data (dicts, lists, strings, numbers) as JSON, UTF-8 by default.

    Args:
        filepath: Local path or fsspec URL of the file.
        load_args: Passed to ``json.load``.
        save_args: Passed to ``json.dump`` (default ``{"indent": 2}``).
        version: Versions to load and save (``versioned: true`` in a catalog).
        credentials: Filesystem credentials.
        fs_args: Filesystem and file-opening arguments.
        metadata: Free-form information for plugins.
    """

    _BINARY = False
    DEFAULT_SAVE_ARGS: ClassVar[dict[str, Any]] = {"indent": 2}

    def _read(self, stream: IO[Any]) -> Any:
        return json.load(stream, **self._load_args)

    def _write(self, stream: IO[Any], data: Any) -> None:
        json.dump(data, stream, **self._save_args)

"""``TextDataset``: a string in a text file."""

from __future__ import annotations

from typing import IO, Any

from ductwork.datasets._file import FileDataset
from ductwork.io._version import Version


class TextDataset(FileDataset[str, str]):
    """Saves a string to a text file (UTF-8 unless ``fs_args`` say otherwise) and loads it.

    Args:
        filepath: Local path or fsspec URL of the file.
        version: Versions to load and save (``versioned: true`` in a catalog).
        credentials: Filesystem credentials.
        fs_args: Filesystem and file-opening arguments, e.g.
            ``{"open_args_load": {"encoding": "latin-1"}}``.
        metadata: Free-form information for plugins.
    """

    _BINARY = False

    def __init__(
        self,
        *,
        filepath: str,
        version: Version | None = None,
        credentials: dict[str, Any] | None = None,
        fs_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(
            filepath=filepath,
            version=version,
            credentials=credentials,
            fs_args=fs_args,
            metadata=metadata,
        )

    def _read(self, stream: IO[Any]) -> str:
        text: str = stream.read()
        return text

    def _write(self, stream: IO[Any], data: str) -> None:
        if not isinstance(data, str):
            raise TypeError(f"TextDataset saves strings, got {type(data).__name__}")
        stream.write(data)

"""``CSVDataset``: a pandas DataFrame in a CSV file."""

from __future__ import annotations

from typing import IO, Any, ClassVar

from ductwork.datasets._file import FileDataset
from ductwork.datasets.pandas._require import import_pandas

pd = import_pandas()


class CSVDataset(FileDataset[Any, Any]):
    """Saves a DataFrame with ``DataFrame.to_csv`` and loads it with ``pandas.read_csv``.

    Args:
        filepath: Local path or fsspec URL of the file.
        load_args: Passed to ``pandas.read_csv``.
        save_args: Passed to ``DataFrame.to_csv`` (default ``{"index": False}``).
        version: Versions to load and save (``versioned: true`` in a catalog).
        credentials: Filesystem credentials.
        fs_args: Filesystem and file-opening arguments.
        metadata: Free-form information for plugins.
    """

    DEFAULT_SAVE_ARGS: ClassVar[dict[str, Any]] = {"index": False}

    def _read(self, stream: IO[Any]) -> Any:
        return pd.read_csv(stream, **self._load_args)

    def _write(self, stream: IO[Any], data: Any) -> None:
        if not isinstance(data, pd.DataFrame):
            raise TypeError(f"CSVDataset saves pandas DataFrames, got {type(data).__name__}")
        data.to_csv(stream, **self._save_args)

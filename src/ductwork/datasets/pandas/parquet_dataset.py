"""``ParquetDataset``: a pandas DataFrame in a Parquet file."""

from __future__ import annotations

from typing import IO, Any

from ductwork.datasets._file import FileDataset
from ductwork.datasets.pandas._require import import_pandas

pd = import_pandas()


class ParquetDataset(FileDataset[Any, Any]):
    """Saves a DataFrame with ``DataFrame.to_parquet`` and loads it with ``pandas.read_parquet``.

    The Parquet engine is pyarrow (part of the ``pandas`` extra) unless ``load_args``/``save_args``
    choose another.

    Args:
        filepath: Local path or fsspec URL of the file.
        load_args: Passed to ``pandas.read_parquet``.
        save_args: Passed to ``DataFrame.to_parquet``.
        version: Versions to load and save (``versioned: true`` in a catalog).
        credentials: Filesystem credentials.
        fs_args: Filesystem and file-opening arguments.
        metadata: Free-form information for plugins.
    """

    def _read(self, stream: IO[Any]) -> Any:
        return pd.read_parquet(stream, **self._load_args)

    def _write(self, stream: IO[Any], data: Any) -> None:
        if not isinstance(data, pd.DataFrame):
            raise TypeError(f"ParquetDataset saves pandas DataFrames, got {type(data).__name__}")
        data.to_parquet(stream, **self._save_args)

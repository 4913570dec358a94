"""``ExcelDataset``: pandas DataFrames in an Excel workbook (``.xlsx``, through openpyxl)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any, ClassVar

from ductwork.datasets._file import FileDataset
from ductwork.datasets.pandas._require import import_pandas

pd = import_pandas()

ENGINE = "openpyxl"


class ExcelDataset(FileDataset[Any, Any]):
    """Saves a DataFrame (or a mapping of sheet name to DataFrame) to an Excel workbook.

    Loads with ``pandas.read_excel``: one DataFrame, or a mapping of every sheet with
    ``load_args: {sheet_name: null}``. The engine is openpyxl (part of the ``pandas`` extra).

    Args:
        filepath: Local path or fsspec URL of the ``.xlsx`` file.
        load_args: Passed to ``pandas.read_excel``.
        save_args: Passed to ``DataFrame.to_excel`` for each sheet (default
            ``{"index": False}``); ``writer`` holds arguments for ``pandas.ExcelWriter``.
        version: Versions to load and save (``versioned: true`` in a catalog).
        credentials: Filesystem credentials.
        fs_args: Filesystem and file-opening arguments.
        metadata: Free-form information for plugins.
    """

    DEFAULT_LOAD_ARGS: ClassVar[dict[str, Any]] = {"engine": ENGINE}
    DEFAULT_SAVE_ARGS: ClassVar[dict[str, Any]] = {"index": False}

    def _read(self, stream: IO[Any]) -> Any:
        return pd.read_excel(stream, **self._load_args)

    def _write(self, stream: IO[Any], data: Any) -> None:
        sheets = data if isinstance(data, Mapping) else {None: data}
        for name, frame in sheets.items():
            if not isinstance(frame, pd.DataFrame):
                where = f" (sheet {name!r})" if name is not None else ""
                raise TypeError(
                    f"ExcelDataset saves pandas DataFrames or a mapping of sheet names to "
                    f"DataFrames, got {type(frame).__name__}{where}"
                )
        save_args = dict(self._save_args)
        writer_args = {"engine": ENGINE, **save_args.pop("writer", {})}
        with pd.ExcelWriter(stream, **writer_args) as writer:
            for name, frame in sheets.items():
                sheet = {"sheet_name": str(name)} if name is not None else {}
                frame.to_excel(writer, **sheet, **save_args)

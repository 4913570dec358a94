"""pandas datasets (the ``pandas`` extra: ``pip install 'ductwork[pandas]'``)."""

from __future__ import annotations

from ductwork.datasets.pandas.csv_dataset import CSVDataset
from ductwork.datasets.pandas.excel_dataset import ExcelDataset
from ductwork.datasets.pandas.parquet_dataset import ParquetDataset

__all__ = ["CSVDataset", "ExcelDataset", "ParquetDataset"]

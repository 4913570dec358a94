"""The pandas Excel dataset (openpyxl, in the ``pandas`` extra)."""

from __future__ import annotations

import pathlib
from typing import Any

import pytest

from ductwork.io import DataCatalog, DatasetError

pd = pytest.importorskip("pandas")
pytest.importorskip("openpyxl")

from ductwork.datasets.pandas import ExcelDataset  # noqa: E402


@pytest.fixture
def frame() -> Any:
    return pd.DataFrame({"name": ["a", "b"], "value": [1.5, 2.5]})


def test_round_trip(frame: Any, tmp_path: pathlib.Path) -> None:
    dataset = ExcelDataset(filepath=str(tmp_path / "out" / "frame.xlsx"))
    dataset.save(frame)
    pd.testing.assert_frame_equal(dataset.load(), frame)


def test_several_sheets(frame: Any, tmp_path: pathlib.Path) -> None:
    path = str(tmp_path / "book.xlsx")
    ExcelDataset(filepath=path).save({"first": frame, "second": frame.head(1)})
    sheets = ExcelDataset(filepath=path, load_args={"sheet_name": None}).load()
    assert list(sheets) == ["first", "second"]
    pd.testing.assert_frame_equal(sheets["second"], frame.head(1))
    one = ExcelDataset(filepath=path, load_args={"sheet_name": "first"}).load()
    pd.testing.assert_frame_equal(one, frame)


def test_arguments_reach_pandas(frame: Any, tmp_path: pathlib.Path) -> None:
    path = str(tmp_path / "x.xlsx")
    ExcelDataset(filepath=path, save_args={"index": True, "sheet_name": "data"}).save(frame)
    loaded = ExcelDataset(filepath=path, load_args={"sheet_name": "data", "index_col": 0}).load()
    pd.testing.assert_frame_equal(loaded, frame)


@pytest.mark.parametrize("data", [[1, 2], {"sheet": [1]}])
def test_refuses_what_is_not_a_frame(data: Any, tmp_path: pathlib.Path) -> None:
    with pytest.raises(DatasetError, match="saves pandas DataFrames"):
        ExcelDataset(filepath=str(tmp_path / "x.xlsx")).save(data)
    assert not (tmp_path / "x.xlsx").exists()


def test_the_short_name_in_a_catalog(frame: Any, tmp_path: pathlib.Path) -> None:
    catalog = DataCatalog.from_config(
        {"book": {"type": "pandas.ExcelDataset", "filepath": str(tmp_path / "b.xlsx")}}
    )
    catalog.save("book", frame)
    pd.testing.assert_frame_equal(catalog.load("book"), frame)

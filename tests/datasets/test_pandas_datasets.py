"""pandas CSV and Parquet datasets (the ``pandas`` extra)."""

from __future__ import annotations

import pathlib
import subprocess
import sys
from typing import Any

import pytest

from ductwork.io import DataCatalog, DatasetError, Version

pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")

from ductwork.datasets.pandas import CSVDataset, ParquetDataset  # noqa: E402


def _python(code: str) -> str:
    """Run ``code`` in a fresh interpreter and return what it printed, stripped."""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return result.stdout.strip()


@pytest.fixture
def frame() -> Any:
    return pd.DataFrame({"name": ["a", "b"], "value": [1.5, 2.5]})


@pytest.mark.parametrize("cls", [CSVDataset, ParquetDataset])
def test_round_trip(cls: type, frame: Any, tmp_path: pathlib.Path) -> None:
    dataset = cls(filepath=str(tmp_path / "out" / "frame"))
    dataset.save(frame)
    pd.testing.assert_frame_equal(dataset.load(), frame)


@pytest.mark.parametrize("cls", [CSVDataset, ParquetDataset])
def test_round_trip_on_another_protocol(cls: type, frame: Any, memory_fs: Any) -> None:
    cls(filepath="memory://frames/f").save(frame)
    pd.testing.assert_frame_equal(cls(filepath="memory://frames/f").load(), frame)


@pytest.mark.parametrize("cls", [CSVDataset, ParquetDataset])
def test_refuses_non_frames(cls: type, tmp_path: pathlib.Path) -> None:
    with pytest.raises(DatasetError, match="saves pandas DataFrames, got list"):
        cls(filepath=str(tmp_path / "x")).save([1, 2])


def test_csv_args_are_passed_through(frame: Any, tmp_path: pathlib.Path) -> None:
    path = tmp_path / "x.csv"
    CSVDataset(filepath=str(path), save_args={"sep": ";", "index": False}).save(frame)
    assert path.read_text(encoding="utf-8").splitlines()[0] == "name;value"
    loaded = CSVDataset(filepath=str(path), load_args={"sep": ";", "usecols": ["value"]}).load()
    assert list(loaded.columns) == ["value"]


def test_csv_default_leaves_the_index_out(frame: Any, tmp_path: pathlib.Path) -> None:
    CSVDataset(filepath=str(tmp_path / "x.csv")).save(frame)
    assert (tmp_path / "x.csv").read_text(encoding="utf-8").startswith("name,value\n")


def test_parquet_args_are_passed_through(frame: Any, tmp_path: pathlib.Path) -> None:
    dataset = ParquetDataset(
        filepath=str(tmp_path / "x.parquet"),
        load_args={"columns": ["name"]},
        save_args={"compression": "gzip"},
    )
    dataset.save(frame)
    assert list(dataset.load().columns) == ["name"]


def test_versioned_csv_through_the_catalog(frame: Any, tmp_path: pathlib.Path) -> None:
    config = {
        "{name}_csv": {
            "type": "pandas.CSVDataset",
            "filepath": f"{tmp_path}/{{name}}.csv",
            "versioned": True,
        }
    }
    DataCatalog.from_config(config, save_version="2024-01-01T00.00.00.000Z").save("a_csv", frame)
    newer = frame.assign(value=[9.0, 9.5])
    DataCatalog.from_config(config, save_version="2024-03-01T00.00.00.000Z").save("a_csv", newer)
    pd.testing.assert_frame_equal(DataCatalog.from_config(config).load("a_csv"), newer)
    old = CSVDataset(
        filepath=str(tmp_path / "a.csv"), version=Version("2024-01-01T00.00.00.000Z", None)
    )
    pd.testing.assert_frame_equal(old.load(), frame)


def test_only_the_pandas_subpackage_imports_pandas() -> None:
    code = (
        "import sys\n"
        "import ductwork.datasets\n"
        "before = 'pandas' in sys.modules\n"
        "import ductwork.datasets.pandas\n"
        "print(before, 'pandas' in sys.modules)\n"
    )
    assert _python(code) == "False True"


def test_missing_pandas_is_explained(tmp_path: pathlib.Path) -> None:
    code = (
        "import sys\n"
        "sys.modules['pandas'] = None  # as if not installed\n"
        "from ductwork.io import DataCatalog, DatasetError\n"
        "catalog = DataCatalog.from_config({'t': {'type': 'pandas.CSVDataset', 'filepath': 'x'}})\n"
        "try:\n"
        "    catalog.get('t')\n"
        "except DatasetError as err:\n"
        "    print(err)\n"
    )
    assert _python(code) == (
        "An exception occurred when parsing config for dataset 't':\n"
        "The type 'pandas.CSVDataset' needs the module 'pandas', which is not installed: "
        "pip install pandas."
    )

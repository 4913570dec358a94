"""The public names of ductwork.io and ductwork.datasets, pinned, and what importing them costs."""

from __future__ import annotations

import ast
import importlib
import pathlib
import subprocess
import sys

import pytest

import ductwork.datasets
import ductwork.io
import ductwork.io.core
from ductwork import exceptions

IO_ALL = [
    "AbstractDataset",
    "AbstractVersionedDataset",
    "CachedDataset",
    "CatalogProtocol",
    "DataCatalog",
    "DatasetAlreadyExistsError",
    "DatasetConfigError",
    "DatasetError",
    "DatasetNotFoundError",
    "DatasetNotPicklableError",
    "MemoryDataset",
    "SharedMemoryCatalogProtocol",
    "SharedMemoryDataCatalog",
    "SharedMemoryDataset",
    "Version",
    "VersionAlreadyExistsError",
    "VersionNotFoundError",
]
DATASETS_ALL = ["JSONDataset", "PickleDataset", "TextDataset", "YAMLDataset"]
SRC = pathlib.Path(ductwork.io.__file__).parents[1]


def _python(code: str) -> str:
    """Run ``code`` in a fresh interpreter and return what it printed, stripped."""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return result.stdout.strip()


def test_io_all_is_pinned() -> None:
    assert sorted(ductwork.io.__all__) == IO_ALL
    for name in IO_ALL:
        assert getattr(ductwork.io, name) is not None


def test_datasets_all_is_pinned() -> None:
    assert sorted(ductwork.datasets.__all__) == DATASETS_ALL


def test_pandas_datasets_all_is_pinned() -> None:
    pandas_datasets = importlib.import_module("ductwork.datasets.pandas")
    assert sorted(pandas_datasets.__all__) == ["CSVDataset", "ExcelDataset", "ParquetDataset"]


def test_catalog_config_resolver_is_importable_as_in_kedro() -> None:
    from ductwork.io import CatalogConfigResolver
    from ductwork.io.catalog_config_resolver import CatalogConfigResolver as Direct

    assert CatalogConfigResolver is Direct


@pytest.mark.parametrize(
    ("module", "names"),
    [
        (
            "ductwork.io.core",
            [
                "AbstractDataset",
                "AbstractVersionedDataset",
                "Version",
                "VersionNotFoundError",
                "VersionAlreadyExistsError",
                "generate_timestamp",
                "parse_dataset_definition",
                "get_protocol_and_path",
                "get_filepath_str",
                "is_parameter",
                "TCopyMode",
                "CatalogProtocol",
                "SharedMemoryCatalogProtocol",
                # names kedro-datasets imports from kedro.io.core
                "VERSION_KEY",
                "VERSIONED_FLAG_KEY",
                "TYPE_KEY",
                "CLOUD_PROTOCOLS",
                "HTTP_PROTOCOLS",
                "PROTOCOL_DELIMITER",
                "validate_on_forbidden_chars",
            ],
        ),
        (
            "ductwork.io.memory_dataset",
            ["MemoryDataset", "_infer_copy_mode", "_copy_with_mode", "_is_memory_dataset"],
        ),
        ("ductwork.io.data_catalog", ["DataCatalog", "SharedMemoryDataCatalog"]),
        ("ductwork.io.shared_memory_dataset", ["SharedMemoryDataset"]),
        ("ductwork.io.cached_dataset", ["CachedDataset"]),
        ("ductwork.io.catalog_config_resolver", ["CatalogConfigResolver"]),
        ("ductwork.io.pickling", ["find_unpicklable"]),
        ("ductwork.datasets.pickle", ["PickleDataset"]),
        ("ductwork.datasets.json", ["JSONDataset"]),
        ("ductwork.datasets.text", ["TextDataset"]),
        ("ductwork.datasets.yaml", ["YAMLDataset"]),
    ],
)
def test_kedro_module_layout(module: str, names: list[str]) -> None:
    imported = importlib.import_module(module)
    missing = [name for name in names if not hasattr(imported, name)]
    assert missing == []


def test_data_catalog_module_rejects_unknown_attributes() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = importlib.import_module("ductwork.io.data_catalog").Nope


def test_dataset_errors_come_from_the_one_hierarchy() -> None:
    for name in IO_ALL:
        if name.endswith("Error"):
            cls = getattr(ductwork.io, name)
            assert cls is getattr(exceptions, name)
            assert issubclass(cls, exceptions.DatasetError)
            assert issubclass(cls, exceptions.DuctworkError)


@pytest.mark.parametrize("package", ["ductwork.io", "ductwork.datasets"])
def test_import_pulls_in_no_heavy_library(package: str) -> None:
    code = (
        f"import sys, {package}\n"
        "heavy = [m for m in ('pandas', 'numpy', 'pyarrow', 'dask', 'rich') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    assert _python(code) == ""


def test_io_does_not_import_pipeline_or_runner() -> None:
    """io is below pipelines and runners in the layers: it never imports them."""
    offenders = []
    for path in sorted((SRC / "io").glob("*.py")) + sorted((SRC / "datasets").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            modules: list[str] = []
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                modules = [node.module]
            offenders += [
                f"{path.name}: {m}"
                for m in modules
                if m.startswith(("ductwork.pipeline", "ductwork.runner", "ductwork.framework"))
            ]
    assert offenders == []


def test_imports_do_not_configure_logging() -> None:
    code = (
        "import logging, ductwork.io, ductwork.datasets\n"
        "root = logging.getLogger()\n"
        "print(len(root.handlers), logging.getLogger('ductwork').handlers)\n"
    )
    assert _python(code) == "0 []"


@pytest.mark.parametrize(
    ("name", "builtin"),
    [("CredentialsNotFoundError", KeyError), ("NotPicklableError", AttributeError)],
)
def test_errors_kedro_code_catches_as_builtins_are_those_builtins(
    name: str, builtin: type[Exception]
) -> None:
    cls = getattr(exceptions, name)
    assert issubclass(cls, builtin)
    assert issubclass(cls, exceptions.DuctworkError)
    assert str(cls("plain message")) == "plain message"  # no KeyError-style quotes

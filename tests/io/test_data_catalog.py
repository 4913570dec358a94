"""DataCatalog behaviour: lookup, patterns, data, runner helpers, description and pickling."""

from __future__ import annotations

import copy
import difflib
import logging
import pickle
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from ductwork.exceptions import DatasetConfigError
from ductwork.io import (
    CachedDataset,
    CatalogProtocol,
    DataCatalog,
    DatasetError,
    DatasetNotFoundError,
    MemoryDataset,
    SharedMemoryCatalogProtocol,
    SharedMemoryDataCatalog,
    SharedMemoryDataset,
    VersionNotFoundError,
)
from tests.io.conftest import CountingDataset, DuckDataset, RecordingDataset

COUNTING = "tests.io.conftest.CountingDataset"


def _patterned() -> DataCatalog:
    return DataCatalog.from_config(
        {
            "declared": {"type": COUNTING, "path": "declared"},
            "{name}_counted": {"type": COUNTING, "path": "{name}"},
            "{anything}": {"type": "MemoryDataset", "copy_mode": "assign"},
        }
    )


# --- lookup -----------------------------------------------------------------------------------


def test_save_and_load(catalog: DataCatalog) -> None:
    catalog.save("numbers", [7])
    assert catalog.load("numbers") == [7]


class _AuditedCatalog(DataCatalog):
    """A subclass that watches every lookup, as a plugin wrapping a catalog might."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.looked_up: list[str] = []

    def get(self, key: str, *args: Any, **kwargs: Any) -> Any:
        self.looked_up.append(key)
        return super().get(key, *args, **kwargs)


def test_a_subclass_that_overrides_get_sees_every_load_save_and_release() -> None:
    catalog = _AuditedCatalog({"a": 1})
    catalog.save("a", 2)
    assert catalog.load("a") == 2
    catalog.release("a")
    assert catalog.looked_up == ["a", "a", "a"]


def test_unknown_names_raise_not_found_with_suggestions(catalog: DataCatalog) -> None:
    with pytest.raises(DatasetNotFoundError, match=r"^Dataset 'nmbers' not found in the catalog"):
        catalog.load("nmbers")
    with pytest.raises(DatasetNotFoundError, match="did you mean one of these instead: numbers"):
        catalog.save("numbrs", 1)
    with pytest.raises(DatasetNotFoundError):
        catalog.release("nope")
    with pytest.raises(DatasetNotFoundError):
        catalog.confirm("nope")
    with pytest.raises(DatasetNotFoundError):
        _ = catalog["nope"]


def test_suggestions_are_worked_out_only_when_the_message_is_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    catalog = DataCatalog({f"table_{i}": MemoryDataset(i) for i in range(500)})
    compared: list[str] = []
    real = difflib.get_close_matches

    def counting(name: str, *args: Any, **kwargs: Any) -> list[str]:
        compared.append(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(difflib, "get_close_matches", counting)
    # Code that looks a name up and catches the miss pays nothing for the suggestions.
    for name in ("table_x", "table_y"):
        with pytest.raises(DatasetNotFoundError):
            catalog.load(name)
    assert compared == []
    with pytest.raises(DatasetNotFoundError) as caught:
        catalog.load("table_12x")
    message = str(caught.value)
    assert message.startswith("Dataset 'table_12x' not found in the catalog - did you mean")
    assert "table_12" in message
    assert str(caught.value) == message
    assert compared == ["table_12x"]  # once, however often it is read
    assert repr(caught.value) == f"DatasetNotFoundError({message!r})"
    # The error travels (to a parent process, into a journal) with its whole text.
    assert str(pickle.loads(pickle.dumps(caught.value))) == message


def test_contains_counts_declared_names_but_not_the_runtime_default(reset_counting: None) -> None:
    catalog = _patterned()
    catalog["explicit"] = 1
    assert "explicit" in catalog
    assert "declared" in catalog  # lazy
    assert "cars_counted" in catalog  # factory pattern
    assert "whatever" in catalog  # user catch-all
    assert 3 not in catalog
    assert "whatever" not in DataCatalog()  # only the runtime default would match
    assert CountingDataset.created == 0  # membership creates nothing


def test_get_without_fallback_returns_none_for_undeclared_names() -> None:
    catalog = DataCatalog()
    assert catalog.get("x") is None
    assert catalog._datasets == {}  # nothing was created


def test_get_with_fallback_creates_a_memory_dataset_once() -> None:
    catalog = DataCatalog()
    created = catalog.get("x", fallback_to_runtime_pattern=True)
    assert type(created) is MemoryDataset
    assert catalog.get("x") is created
    assert "x" in catalog


def test_shared_memory_catalog_falls_back_to_shared_memory_dataset() -> None:
    created = SharedMemoryDataCatalog().get("x", fallback_to_runtime_pattern=True)
    assert type(created) is SharedMemoryDataset


def test_pattern_datasets_are_created_once_and_kept(reset_counting: None) -> None:
    catalog = _patterned()
    first = catalog.get("cars_counted")
    assert isinstance(first, CountingDataset)
    assert first.path == "cars"
    assert catalog["cars_counted"] is first
    assert CountingDataset.created == 1
    assert "cars_counted" in catalog._datasets


def test_lazy_entries_are_created_on_first_use(reset_counting: None) -> None:
    catalog = _patterned()
    assert catalog.keys() == ["declared"]
    assert CountingDataset.created == 0
    catalog.save("declared", 5)
    assert catalog.load("declared") == 5
    assert CountingDataset.created == 1


def test_configuration_errors_surface_when_the_entry_is_used() -> None:
    catalog = DataCatalog.from_config({"bad": {"type": "MemoryDataset", "nope": 1}})
    with pytest.raises(
        DatasetConfigError,
        match=r"Dataset 'bad' must only contain arguments valid .*: unexpected key 'nope'",
    ):
        catalog.load("bad")
    assert "bad" in catalog  # still declared; a fixed entry can be set over it


# --- setitem and construction ------------------------------------------------------------------


def test_setitem_wraps_raw_values_and_warns_on_replace(caplog: pytest.LogCaptureFixture) -> None:
    catalog = DataCatalog()
    catalog["x"] = {"a": 1}
    assert isinstance(catalog["x"], MemoryDataset)
    assert catalog.load("x") == {"a": 1}
    with caplog.at_level(logging.WARNING, logger="ductwork.io.data_catalog"):
        catalog["x"] = RecordingDataset(data=2)
    assert "Replacing dataset 'x'" in caplog.text
    assert catalog.load("x") == 2


def test_setitem_replaces_a_configured_entry() -> None:
    catalog = DataCatalog.from_config({"x": {"type": "MemoryDataset"}})
    catalog["x"] = 5
    assert catalog.keys() == ["x"]
    assert "x" not in catalog.config_resolver.config
    assert catalog.load("x") == 5


def test_constructor_wraps_raw_values_and_keeps_datasets_as_given() -> None:
    duck = DuckDataset()
    mocked = mock.Mock()
    catalog = DataCatalog({"raw": 3, "duck": duck, "mocked": mocked})
    assert catalog.load("raw") == 3
    assert catalog["duck"] is duck
    assert catalog["mocked"] is mocked


def test_passed_datasets_win_over_configuration(caplog: pytest.LogCaptureFixture) -> None:
    resolver = DataCatalog.from_config({"x": {"type": "MemoryDataset"}}).config_resolver
    with caplog.at_level(logging.WARNING):
        catalog = DataCatalog({"x": 1}, config_resolver=resolver)
    assert "Cannot register dataset 'x' from config" in caplog.text
    assert catalog.load("x") == 1
    assert "x" not in resolver.config  # the dropped entry does not linger in the resolver


def test_ipython_completes_dataset_names() -> None:
    catalog = DataCatalog.from_config({"lazy": {"type": "MemoryDataset"}})
    catalog["made"] = 1
    assert catalog._ipython_key_completions_() == ["lazy", "made"]


def test_duck_typed_datasets_work_everywhere() -> None:
    duck = DuckDataset()
    catalog = DataCatalog()
    catalog["duck"] = duck
    assert catalog["duck"] is duck
    assert catalog.exists("duck") is False
    catalog.save("duck", [1])
    assert catalog.load("duck") == [1]
    assert catalog.exists("duck") is True
    catalog.release("duck")
    assert duck.released is True


# --- data operations ---------------------------------------------------------------------------


def test_errors_are_prefixed_with_the_dataset_name() -> None:
    catalog = DataCatalog({"empty": MemoryDataset()})
    with pytest.raises(DatasetError, match=r"^empty: Data for MemoryDataset has not been saved"):
        catalog.load("empty")
    with pytest.raises(DatasetError, match=r"^empty: Saving 'None' to a 'Dataset' is not allowed"):
        catalog.save("empty", None)


def test_prefixing_keeps_the_error_class_and_chains() -> None:
    failing = RecordingDataset(fail_with=VersionNotFoundError("no versions"))
    with pytest.raises(VersionNotFoundError, match=r"^v: no versions$") as info:
        DataCatalog({"v": failing}).load("v")
    assert isinstance(info.value.__cause__, VersionNotFoundError)


def test_exists(catalog: DataCatalog) -> None:
    assert catalog.exists("recorded") is True
    assert catalog.exists("undeclared") is False
    catalog["empty"] = MemoryDataset()
    assert catalog.exists("empty") is False


def test_release(catalog: DataCatalog, recording: RecordingDataset) -> None:
    catalog.release("recorded")
    assert recording.releases == 1


def test_confirm() -> None:
    confirmable = mock.Mock()
    catalog = DataCatalog({"c": confirmable, "plain": MemoryDataset(data=1)})
    catalog.confirm("c")
    confirmable.confirm.assert_called_once_with()
    with pytest.raises(DatasetError, match=r"^Dataset 'plain' does not have 'confirm' method$"):
        catalog.confirm("plain")


def test_load_with_a_version_uses_a_copy(tmp_path: Path) -> None:
    catalog = DataCatalog.from_config(
        {"v": {"type": "text.TextDataset", "filepath": str(tmp_path / "v.txt"), "versioned": True}},
        save_version="2024-01-01T00.00.00.000Z",
    )
    catalog.save("v", "first")
    stored = catalog["v"]
    assert catalog.load("v", version="2024-01-01T00.00.00.000Z") == "first"
    assert catalog["v"] is stored
    assert catalog.get("v", version="2024-01-01T00.00.00.000Z") is not stored
    with pytest.raises(DatasetError, match="is not allowed"):
        catalog.load("v", version="../escape")


def test_load_and_save_log_with_lazy_arguments(caplog: pytest.LogCaptureFixture) -> None:
    catalog = DataCatalog({"x": 1})
    with caplog.at_level(logging.INFO, logger="ductwork.io.data_catalog"):
        catalog.save("x", 2)
        catalog.load("x")
    messages = [r.getMessage() for r in caplog.records if r.name == "ductwork.io.data_catalog"]
    assert messages == [
        "Saving data to x (MemoryDataset)...",
        "Loading data from x (MemoryDataset)...",
    ]
    assert all(r.args for r in caplog.records if r.name == "ductwork.io.data_catalog")


# --- enumeration and description --------------------------------------------------------------


def test_keys_lazy_first_then_created() -> None:
    catalog = DataCatalog.from_config({"lazy": {"type": "MemoryDataset"}})
    catalog["made"] = 1
    assert catalog.keys() == ["lazy", "made"]
    assert list(catalog) == ["lazy", "made"]
    assert len(catalog) == 2
    values = catalog.values()
    assert all(isinstance(v, MemoryDataset) for v in values)
    # Creating the lazy entry moved it among the created datasets.
    assert [name for name, _ in catalog.items()] == ["made", "lazy"]


def test_filter() -> None:
    catalog = DataCatalog.from_config(
        {
            "a_pickle": {"type": "pickle.PickleDataset", "filepath": "a.pkl"},
            "b_json": {"type": "json.JSONDataset", "filepath": "b.json"},
        }
    )
    catalog["c_mem"] = 1
    assert catalog.filter(name_regex="^a_") == ["a_pickle"]
    assert catalog.filter(type_regex="json") == ["b_json"]
    assert catalog.filter(by_type=MemoryDataset) == ["c_mem"]
    assert catalog.filter(by_type=[MemoryDataset, CachedDataset], name_regex="c") == ["c_mem"]
    assert catalog.keys()[:2] == ["a_pickle", "b_json"]  # filtering created nothing


def test_get_type_does_not_create(reset_counting: None) -> None:
    catalog = _patterned()
    assert catalog.get_type("declared") == COUNTING
    assert catalog.get_type("x_counted") == COUNTING
    assert catalog.get_type("zzz") == "ductwork.io.memory_dataset.MemoryDataset"
    assert DataCatalog().get_type("zzz") is None
    assert CountingDataset.created == 0
    catalog.get("declared")
    assert catalog.get_type("declared") == COUNTING


def test_repr_shows_names_and_types_but_no_credentials() -> None:
    catalog = DataCatalog.from_config(
        {"db": {"type": "pickle.PickleDataset", "filepath": "x", "credentials": "c"}},
        credentials={"c": {"password": "s3cr3t-value"}},
    )
    catalog["m"] = 1
    text = repr(catalog)
    assert text == (
        "DataCatalog({'db': pickle.PickleDataset, "
        "'m': ductwork.io.memory_dataset.MemoryDataset(data='<int>')})"
    )
    catalog.get("db")
    assert "s3cr3t-value" not in repr(catalog)


def test_equality() -> None:
    shared = MemoryDataset(data=1)
    config = {"x": {"type": "MemoryDataset"}}
    assert DataCatalog({"a": shared}) == DataCatalog({"a": shared})
    # Catalogs are equal when they hold the same datasets (the same objects), as in Kedro:
    # two catalogs made from one configuration have entries of their own.
    assert DataCatalog.from_config(config) != DataCatalog.from_config(config)
    made = DataCatalog.from_config(config)
    assert copy.copy(made) == made  # a shallow copy holds the same entries
    assert copy.deepcopy(made) != made
    assert DataCatalog({"a": shared}) != DataCatalog({"a": MemoryDataset(data=1)})
    assert DataCatalog() != "not a catalog"


# --- protocols -------------------------------------------------------------------------------


def test_catalogs_satisfy_the_protocols() -> None:
    # Checked by mypy too: these assignments type-check only if the shapes match.
    plain: CatalogProtocol = DataCatalog()
    shared: SharedMemoryCatalogProtocol = SharedMemoryDataCatalog()
    assert plain is not shared
    assert isinstance(DataCatalog(), CatalogProtocol)
    assert isinstance(SharedMemoryDataCatalog(), SharedMemoryCatalogProtocol)
    assert not isinstance(DataCatalog(), SharedMemoryCatalogProtocol)
    assert DataCatalog()._datasets == {}


# --- runner helpers --------------------------------------------------------------------------


def test_is_ephemeral(reset_counting: None) -> None:
    catalog = _patterned()
    catalog["memory"] = 1
    catalog["cached"] = CachedDataset(MemoryDataset(data=1))
    assert catalog.is_ephemeral("memory") is True
    assert catalog.is_ephemeral("cached") is True
    assert catalog.is_ephemeral("via_catch_all") is True  # the user catch-all is memory
    assert DataCatalog().is_ephemeral("undeclared") is True
    assert DataCatalog()._datasets == {}  # asking created nothing
    assert catalog.is_ephemeral("declared") is False
    assert catalog.is_ephemeral("declared") is False
    assert catalog.is_ephemeral("x_counted") is False
    assert CountingDataset.created == 2  # each created once, then looked up


def test_subset_holds_only_the_named_datasets(reset_counting: None) -> None:
    catalog = _patterned()
    shared = MemoryDataset(data=1)
    catalog["shared"] = shared
    catalog["other"] = 2
    subset = catalog.subset(["shared", "declared", "x_counted"])
    assert type(subset) is DataCatalog
    assert subset["shared"] is shared
    assert subset.keys() == ["declared", "shared"]  # "other" left behind
    assert CountingDataset.created == 0  # lazy entries stay lazy
    assert isinstance(subset.get("x_counted"), CountingDataset)
    assert "declared" in catalog._lazy_datasets  # the original is untouched
    with pytest.raises(DatasetNotFoundError, match="not found"):
        DataCatalog().subset(["missing"])


def test_subset_keeps_the_catalog_class() -> None:
    catalog = SharedMemoryDataCatalog({"x": 1})
    subset = catalog.subset(["x"])
    assert type(subset) is SharedMemoryDataCatalog
    assert type(subset.get("new", fallback_to_runtime_pattern=True)) is SharedMemoryDataset


def test_subset_locks_independently() -> None:
    catalog = DataCatalog({"x": 1})
    subset = catalog.subset(["x"])
    assert subset._lock is not catalog._lock
    subset["y"] = 2
    assert "y" not in catalog


# --- pickling --------------------------------------------------------------------------------


def test_catalog_pickles_without_its_lock(reset_counting: None) -> None:
    catalog = _patterned()
    catalog["data"] = [1, 2]
    catalog["empty"] = MemoryDataset()
    catalog.get("cars_counted")
    clone = pickle.loads(pickle.dumps(catalog))
    assert clone.load("data") == [1, 2]
    assert clone.keys() == catalog.keys()
    with pytest.raises(DatasetError, match="has not been saved yet"):
        clone.load("empty")
    assert clone._lock is not catalog._lock
    clone.save("fresh_counted", 3)  # patterns travel too
    assert clone.load("fresh_counted") == 3


def test_subset_pickles(reset_counting: None) -> None:
    catalog = SharedMemoryDataCatalog({"x": 1})
    catalog.get("y", fallback_to_runtime_pattern=True)
    clone = pickle.loads(pickle.dumps(catalog.subset(["x", "y"])))
    assert clone.load("x") == 1
    assert isinstance(clone["y"], SharedMemoryDataset)

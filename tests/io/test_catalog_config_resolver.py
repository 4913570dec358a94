"""CatalogConfigResolver: entries, credentials, factory patterns, catch-all and runtime default."""

from __future__ import annotations

import logging

import pytest

from ductwork.exceptions import DatasetConfigError
from ductwork.io import CatalogConfigResolver

RUNTIME = {"{default}": {"type": "MemoryDataset"}}


def _resolver(
    config: dict[str, object], credentials: dict[str, object] | None = None
) -> CatalogConfigResolver:
    return CatalogConfigResolver(config, credentials, default_runtime_patterns=RUNTIME)


def test_explicit_entries_and_patterns_are_separated() -> None:
    resolver = _resolver(
        {
            "cars": {"type": "pickle.PickleDataset", "filepath": "cars.pkl"},
            "{name}_csv": {"type": "pandas.CSVDataset", "filepath": "{name}.csv"},
            "_anchor": {"this": "is skipped"},
        }
    )
    assert list(resolver.config) == ["cars"]
    assert resolver.list_patterns() == ["{name}_csv", "{default}"]


def test_list_patterns_order() -> None:
    resolver = _resolver(
        {
            "{a}": {"type": "MemoryDataset"},
            "{x}_csv": {"type": "MemoryDataset"},
            "{ns}.{x}_csv": {"type": "MemoryDataset"},
        }
    )
    assert resolver.list_patterns() == ["{ns}.{x}_csv", "{x}_csv", "{a}", "{default}"]


def test_matching_order() -> None:
    resolver = _resolver({"{x}_csv": {"type": "A"}, "{any}": {"type": "B"}})
    assert resolver.match_dataset_pattern("a_csv") == "{x}_csv"
    assert resolver.match_dataset_pattern("a") is None
    assert resolver.match_user_catch_all_pattern("a") == "{any}"
    assert resolver.match_pattern("a") == "{any}"
    assert resolver.match_runtime_pattern("a") == "{default}"


def test_resolve_pattern_fills_placeholders(caplog: pytest.LogCaptureFixture) -> None:
    resolver = _resolver(
        {"{x}_csv": {"type": "A", "filepath": "data/{x}.csv"}, "{any}": {"type": "B"}}
    )
    assert resolver.resolve_pattern("cars_csv") == {"type": "A", "filepath": "data/cars.csv"}
    with caplog.at_level(logging.WARNING):
        assert resolver.resolve_pattern("other") == {"type": "B"}
    assert "catch-all pattern '{any}'" in caplog.text


def test_runtime_default_resolves_everything_else() -> None:
    assert _resolver({}).resolve_pattern("x") == {"type": "MemoryDataset"}


def test_plain_runtime_type_of_the_catch_all_default_skips_matching() -> None:
    resolver = _resolver({})
    assert resolver.plain_runtime_type("any.name@x") == "MemoryDataset"
    assert resolver.plain_runtime_type("") is None  # the pattern needs one character


def test_plain_runtime_type_of_narrower_runtime_patterns_still_matches() -> None:
    resolver = CatalogConfigResolver(
        {}, default_runtime_patterns={"{n:d}": {"type": "A"}, "{x}_csv": {"type": "B"}}
    )
    assert resolver.plain_runtime_type("12") == "A"
    assert resolver.plain_runtime_type("a_csv") == "B"
    assert resolver.plain_runtime_type("a") is None
    with_args = CatalogConfigResolver({}, default_runtime_patterns={"{x}": {"type": "A", "k": 1}})
    assert with_args.plain_runtime_type("a") is None  # arguments need the full resolution


def test_resolved_configs_are_copies() -> None:
    resolver = _resolver({"{x}_csv": {"type": "A", "load_args": {"sep": ","}}})
    resolver.resolve_pattern("a_csv")["load_args"]["sep"] = ";"
    assert resolver.resolve_pattern("b_csv")["load_args"] == {"sep": ","}


def test_more_than_one_catch_all_is_refused() -> None:
    with pytest.raises(DatasetConfigError, match="Multiple catch-all patterns"):
        _resolver({"{a}": {"type": "A"}, "{b}": {"type": "B"}})


def test_credentials_are_resolved_by_name_also_in_patterns_and_nested_entries() -> None:
    resolver = _resolver(
        {
            "db": {"type": "A", "credentials": "prod"},
            "{x}_s3": {"type": "A", "credentials": "prod"},
            "cached": {"type": "CachedDataset", "dataset": {"type": "A", "credentials": "prod"}},
            "inline": {"type": "A", "credentials": {"token": "t"}},
        },
        {"prod": {"user": "u", "password": "p"}},
    )
    assert resolver.config["db"]["credentials"] == {"user": "u", "password": "p"}
    assert resolver.config["cached"]["dataset"]["credentials"] == {"user": "u", "password": "p"}
    assert resolver.config["inline"]["credentials"] == {"token": "t"}
    assert resolver.resolve_pattern("a_s3")["credentials"] == {"user": "u", "password": "p"}


def test_unknown_credentials_name_the_dataset_and_are_a_key_error() -> None:
    with pytest.raises(DatasetConfigError) as info:
        _resolver({"db": {"type": "A", "credentials": "nope"}}, {"prod": {"password": "p"}})
    assert isinstance(info.value, KeyError)  # what code written for Kedro catches
    assert str(info.value) == (
        "Unable to find credentials 'nope' for dataset 'db': check your data catalog and "
        "credentials configuration."
    )


def test_unknown_nested_credentials_are_a_key_error_too() -> None:
    entry = {"type": "A", "dataset": {"type": "B", "credentials": "inner"}}
    with pytest.raises(KeyError, match="Unable to find credentials 'inner'"):
        _resolver({"db": entry}, {})


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("just a string", "Catalog entry 'bad' is not a valid dataset configuration"),
        (["a", "list"], "preceded by an underscore. .* got list"),
        ({"filepath": "x"}, "dataset 'bad':\n'type' is missing"),
    ],
)
def test_malformed_entries_name_the_dataset(entry: object, message: str) -> None:
    with pytest.raises(DatasetConfigError, match=message):
        _resolver({"bad": entry})


def test_missing_runtime_patterns_warn_and_default_to_memory(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        resolver = CatalogConfigResolver()
    assert "runtime patterns are not provided" in caplog.text
    assert resolver.resolve_pattern("x") == {"type": "ductwork.io.MemoryDataset"}


def test_unresolve_credentials_moves_values_out() -> None:
    config, credentials = CatalogConfigResolver.unresolve_credentials(
        "db",
        {"type": "A", "credentials": {"p": 1}, "dataset": {"credentials": {"q": 2}}},
    )
    assert config == {
        "type": "A",
        "credentials": "db_credentials",
        "dataset": {"credentials": "db_dataset_credentials"},
    }
    assert credentials == {"db_credentials": {"p": 1}, "db_dataset_credentials": {"q": 2}}


def test_subset_keeps_patterns_and_only_the_named_entries() -> None:
    resolver = _resolver({"a": {"type": "A"}, "b": {"type": "B"}, "{x}_csv": {"type": "C"}})
    subset = resolver.subset(["b"])
    assert list(subset.config) == ["b"]
    assert subset.list_patterns() == resolver.list_patterns()
    assert list(resolver.config) == ["a", "b"]


def test_unresolve_credentials_names_the_first_after_the_dataset() -> None:
    config, credentials = CatalogConfigResolver.unresolve_credentials(
        "cached",
        {
            "type": "CachedDataset",
            "dataset": {"type": "A", "credentials": {"token": "t"}},
            "other": {"credentials": {"token": "u"}},
            "none": {"credentials": None},
        },
    )
    assert config["dataset"]["credentials"] == "cached_credentials"
    assert config["other"]["credentials"] == "cached_other_credentials"
    assert config["none"]["credentials"] is None  # nothing to move out
    assert credentials == {
        "cached_credentials": {"token": "t"},
        "cached_other_credentials": {"token": "u"},
    }

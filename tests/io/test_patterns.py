"""The parse-style pattern matcher used by dataset factories."""

from __future__ import annotations

import pytest

from ductwork.exceptions import DatasetConfigError
from ductwork.io._patterns import Pattern, fill_placeholders


@pytest.mark.parametrize(
    ("pattern", "name", "expected"),
    [
        ("{name}_csv", "cars_csv", {"name": "cars"}),
        ("{name}_csv", "cars_csv_csv", {"name": "cars_csv"}),
        ("{name}_csv", "cars.csv", None),
        ("{name}_csv", "_csv", None),
        ("{name}_csv", "cars_CSV", None),
        ("{ns}.{name}", "a.b.c", {"ns": "a", "name": "b.c"}),
        ("{default}", "anything at all", {"default": "anything at all"}),
        ("{x}-{x}", "ab-ab", {"x": "ab"}),
        ("{x}-{x}", "ab-cd", None),
        ("{n:d}_part", "12_part", {"n": "12"}),
        ("{n:d}_part", "1a_part", None),
        ("{w:w}.txt", "ab_1.txt", {"w": "ab_1"}),
        ("{w:w}.txt", "a-b.txt", None),
        ("{l:l}.txt", "abc.txt", {"l": "abc"}),
        ("{l:l}.txt", "ab1.txt", None),
        ("{s:S}!", "no-space!", {"s": "no-space"}),
        ("{s:S}!", "a space!", None),
        ("{{literal}}_{x}", "{literal}_1", {"x": "1"}),
        ("a.b{x}", "aXb1", None),
    ],
)
def test_match(pattern: str, name: str, expected: dict[str, str] | None) -> None:
    assert Pattern(pattern).match(name) == expected
    assert Pattern(pattern).matches(name) is (expected is not None)


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("{default}", True),
        ("{a}", True),
        ("{a:w}", False),  # typed: only word characters
        ("{a:S}", False),
        ("{a}_csv", False),
        ("x{a}", False),
        ("{a}{b}", False),
        ("{{a}}", False),  # literal braces, no placeholder
    ],
)
def test_only_a_lone_untyped_placeholder_matches_any_name(pattern: str, expected: bool) -> None:
    compiled = Pattern(pattern)
    assert compiled.matches_any_name is expected
    if expected:  # and the regex agrees, for names of every sort
        assert all(compiled.matches(n) for n in ["a", "a b", "a.b@c", "x\ny", "{x}", "1"])


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("{}_csv", "must be a name"),
        ("{1x}", "must be a name"),
        ("{a.b}", "must be a name"),
        ("{x:f}", "unsupported type 'f'"),
        ("{x", "unbalanced"),
        ("x}", "unbalanced"),
    ],
)
def test_invalid_patterns_are_refused(pattern: str, message: str) -> None:
    with pytest.raises(DatasetConfigError, match=message):
        Pattern(pattern)


def test_specificity_counts_literal_characters() -> None:
    assert Pattern("{a}_csv").specificity == 4
    assert Pattern("{a}").specificity == 0
    assert Pattern("{a}{b}").placeholders == 2


def test_sorting_prefers_literals_then_placeholders_then_text() -> None:
    texts = ["{a}", "{a}_{b}", "b_{a}", "a_{x}", "{ns}.{name}_csv", "{x}_csv"]
    ordered = [p.text for p in sorted(map(Pattern, texts), key=Pattern.sort_key)]
    assert ordered == ["{ns}.{name}_csv", "{x}_csv", "a_{x}", "b_{a}", "{a}_{b}", "{a}"]


def test_fill_placeholders_walks_nested_values() -> None:
    config = {
        "type": "x",
        "filepath": "data/{name}.csv",
        "load_args": {"sep": ",", "names": ["{name}", 1]},
        "braces": "{{kept}}",
    }
    filled = fill_placeholders(config, {"name": "cars"}, "cars_csv", "{name}_csv")
    assert filled == {
        "type": "x",
        "filepath": "data/cars.csv",
        "load_args": {"sep": ",", "names": ["cars", 1]},
        "braces": "{kept}",
    }


def test_unknown_placeholder_names_the_dataset_and_key() -> None:
    with pytest.raises(DatasetConfigError) as info:
        fill_placeholders({"load_args": {"path": "{other}"}}, {"name": "a"}, "a_csv", "{name}_csv")
    message = str(info.value)
    assert "Dataset 'a_csv'" in message
    assert "key 'load_args.path'" in message
    assert "'{other}'" in message

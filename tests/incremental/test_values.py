"""Value hashes: equal for values a node cannot tell apart, different for every other pair."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import threading
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import pytest

from ductwork.incremental.values import Unhashable, hash_value


class Colour(enum.Enum):
    RED = 1
    BLUE = 2


class Pair(NamedTuple):
    a: int
    b: int


@dataclasses.dataclass
class Point:
    x: int
    y: int


DISTINCT: list[Any] = [
    None,
    0,
    1,
    True,
    False,
    1.0,
    -0.0,
    0.0,
    float("nan"),
    "1",
    b"1",
    (1,),
    [1],
    {1},
    frozenset({1}),
    {"a": 1},
    {"a": 1.0},
    {"a": 1, "b": 2},
    {"b": 2, "a": 1},  # insertion order may matter to a node
    (1, 2),
    (2, 1),
    ("ab", "c"),
    ("a", "bc"),
    Colour.RED,
    Colour.BLUE,
    Pair(1, 2),
    Point(1, 2),
    decimal.Decimal("1.0"),
    decimal.Decimal("1.00"),
    datetime.date(2020, 1, 1),
    datetime.datetime(2020, 1, 1),
    datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc),
    Path("a/b"),
    np.int64(1),
    np.float32(1.0),
    np.zeros((2, 3)),
    np.zeros((3, 2)),
    np.zeros((2, 3), dtype=np.float32),
    np.array([1, 2, 3]),
    np.array([1, 2, 4]),
    np.array(["a", "b"], dtype=object),
    pd.DataFrame({"a": [1, 2]}),
    pd.DataFrame({"b": [1, 2]}),
    pd.DataFrame({"a": [1.0, 2.0]}),
    pd.DataFrame({"a": [1, 2]}, index=[5, 6]),
    pd.DataFrame({"a": ["x", "y"]}),
    pd.DataFrame({"a": ["x", None]}),
    # String columns are hashed in one go (lengths, then the joined text): where the joins fall
    # matters, and so do empty strings, non-ASCII text, the dtype and a missing value.
    pd.DataFrame({"a": ["ab", "c"]}),
    pd.DataFrame({"a": ["a", "bc"]}),
    pd.DataFrame({"a": ["", "abc"]}),
    pd.DataFrame({"a": ["abc", ""]}),
    pd.DataFrame({"a": ["é", "x"]}),
    pd.DataFrame({"a": ["e\u0301", "x"]}),
    pd.DataFrame({"a": ["\ud800", "x"]}, dtype=object),
    pd.DataFrame({"a": ["ab", "c"]}, dtype=object),
    pd.DataFrame({"a": pd.array(["ab", "c"], dtype="string")}),
    pd.DataFrame({"a": pd.array(["ab", None], dtype="string")}),
    pd.Series(["ab", "c"], index=["ab", "c"]),
    pd.Series(["ab", "c"], index=["a", "bc"]),
    pd.Series([1, 2], name="a"),
    pd.Series([1, 2], name="b"),
    pd.Series(["x", "y"], dtype="category"),
    pd.Series(["y", "x"], dtype="category"),
    pd.Timestamp("2020-01-01"),
    pd.Timestamp("2020-01-01", tz="UTC"),
    pd.Timestamp("2020-01-01 00:00:00.000000001"),
]


def test_distinct_values_have_distinct_hashes() -> None:
    digests = [hash_value(value) for value in DISTINCT]
    clashes = [
        (DISTINCT[i], DISTINCT[j])
        for i in range(len(digests))
        for j in range(i + 1, len(digests))
        if digests[i] == digests[j]
    ]
    assert clashes == []


@pytest.mark.parametrize("value", DISTINCT, ids=[type(v).__name__ for v in DISTINCT])
def test_equal_values_have_equal_hashes(value: Any) -> None:
    import copy

    assert hash_value(value) == hash_value(copy.deepcopy(value))


def test_sets_hash_whatever_their_order() -> None:
    assert hash_value({"a", "b", "c"}) == hash_value({"c", "b", "a"})


def test_array_views_hash_their_content() -> None:
    base = np.arange(12).reshape(3, 4)
    assert hash_value(base.T) == hash_value(np.ascontiguousarray(base.T))
    assert hash_value(base[:, ::2]) != hash_value(base[:, 1::2])


def test_unknown_objects_are_unhashable() -> None:
    with pytest.raises(Unhashable, match=r"_thread\.lock"):
        hash_value({"lock": threading.Lock()})


def test_self_reference_is_unhashable() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(Unhashable, match="refers to itself"):
        hash_value(loop)


def test_a_large_array_hashes_in_one_pass() -> None:
    array = np.ones(1 << 20)
    changed = array.copy()
    changed[-1] = 2
    assert hash_value(array) != hash_value(changed)

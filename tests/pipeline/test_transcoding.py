"""Splitting and stripping ``name@format``."""

from __future__ import annotations

import pytest

from ductwork.exceptions import InvalidDatasetNameError
from ductwork.pipeline.transcoding import strip_transcoding, transcode_split


@pytest.mark.parametrize(
    ("name", "expected"),
    [("cars", ("cars", "")), ("cars@pandas", ("cars", "pandas")), ("a.b@spark", ("a.b", "spark"))],
)
def test_split(name: str, expected: tuple[str, str]) -> None:
    assert transcode_split(name) == expected
    assert strip_transcoding(name) == expected[0]


@pytest.mark.parametrize("name", ["a@b@c", "x@@y"])
def test_more_than_one_separator_is_an_error_naming_the_dataset(name: str) -> None:
    with pytest.raises(
        InvalidDatasetNameError, match="Expected maximum 1 transcoding separator, found 2"
    ) as info:
        strip_transcoding(name)
    assert name in str(info.value)
    with pytest.raises(ValueError, match="found 2"):
        transcode_split(name)

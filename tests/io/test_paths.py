"""Splitting dataset paths into fsspec protocol and path."""

from __future__ import annotations

from pathlib import PurePosixPath

import pytest

from ductwork.io import DatasetError, Version
from ductwork.io.core import get_filepath_str, get_protocol_and_path, validate_on_forbidden_chars


@pytest.mark.parametrize(
    ("filepath", "expected"),
    [
        ("data/x.csv", ("file", "data/x.csv")),
        ("/abs/x.csv", ("file", "/abs/x.csv")),
        ("C:\\data\\x.csv", ("file", "C:\\data\\x.csv")),
        ("C:/data/x.csv", ("file", "C:/data/x.csv")),
        ("file:///abs/x.csv", ("file", "/abs/x.csv")),
        ("file:///C:/data/x.csv", ("file", "C:/data/x.csv")),
        ("s3://bucket/a/x.csv", ("s3", "bucket/a/x.csv")),
        ("s3://key:secret@bucket/a/x.csv", ("s3", "bucket/a/x.csv")),
        ("gcs://bucket/x", ("gcs", "bucket/x")),
        ("abfs://container@account.dfs/x", ("abfs", "container@account.dfs/x")),
        ("memory://scratch/x.pkl", ("memory", "scratch/x.pkl")),
        ("https://example.com/a/x.csv", ("https", "example.com/a/x.csv")),
        ("https://example.com/q?a=1#top", ("https", "example.com/q?a=1#top")),
        # The key of an object may hold '?' or '#': they stay in the path.
        ("s3://bucket/key?versionId=7", ("s3", "bucket/key?versionId=7")),
        ("gs://bucket/a#b", ("gs", "bucket/a#b")),
        # A server's host and port are the filesystem's options; the path starts at its root.
        ("hdfs://namenode:8020/data/x.parquet", ("hdfs", "/data/x.parquet")),
        ("sftp://user@host/home/x.csv", ("sftp", "/home/x.csv")),
    ],
)
def test_protocol_and_path(filepath: str, expected: tuple[str, str]) -> None:
    assert get_protocol_and_path(filepath) == expected


def test_http_cannot_be_versioned() -> None:
    with pytest.raises(DatasetError, match="Versioning is not supported for HTTP"):
        get_protocol_and_path("http://example.com/x.csv", Version(None, None))


@pytest.mark.parametrize(
    ("protocol", "expected"),
    [("file", "a/b.csv"), ("s3", "a/b.csv"), ("https", "https://a/b.csv")],
)
def test_filepath_str(protocol: str, expected: str) -> None:
    assert get_filepath_str(PurePosixPath("a/b.csv"), protocol) == expected


@pytest.mark.parametrize("value", ["has space", "semi;colon"])
def test_forbidden_characters_are_refused(value: str) -> None:
    with pytest.raises(
        DatasetError, match="Neither white-space nor semicolon are allowed in 'table'"
    ):
        validate_on_forbidden_chars(table=value)


def test_plain_values_pass_the_forbidden_character_check() -> None:
    validate_on_forbidden_chars(table="sales_2024", schema="public")

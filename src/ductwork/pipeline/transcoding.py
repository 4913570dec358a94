"""Transcoding: one dataset read or written in several formats, ``name@format``.

``cars@pandas`` and ``cars@spark`` are the same dataset ``cars`` for the graph (an edge joins a
node writing ``cars@pandas`` to a node reading ``cars@spark``); the catalog keeps one entry per
full name. These helpers split a name into its base and its format.
"""

from __future__ import annotations

from ductwork.exceptions import InvalidDatasetNameError

__all__ = [
    "TRANSCODING_SEPARATOR",
    "_strip_transcoding",
    "_transcode_split",
    "strip_transcoding",
    "transcode_split",
]

TRANSCODING_SEPARATOR = "@"


def transcode_split(name: str) -> tuple[str, str]:
    """Split a dataset name into its base name and its format.

    Args:
        name: A dataset name, with or without a transcoding format.

    Returns:
        ``(base, format)``; the format is ``""`` when the name has none.

    Raises:
        InvalidDatasetNameError: If the name holds the separator more than once.
    """
    base, separator, fmt = name.partition(TRANSCODING_SEPARATOR)
    if separator and TRANSCODING_SEPARATOR in fmt:
        count = name.count(TRANSCODING_SEPARATOR)
        raise InvalidDatasetNameError(
            f"Expected maximum 1 transcoding separator, found {count} instead: "
            f"'{name}'. A dataset name holds '{TRANSCODING_SEPARATOR}' at most once."
        )
    return base, fmt


def strip_transcoding(name: str) -> str:
    """Return the base name of a dataset: ``"cars@pandas"`` gives ``"cars"``.

    Raises:
        InvalidDatasetNameError: If the name holds the separator more than once.
    """
    # The graph strips every name it indexes, so the common case returns without splitting.
    if TRANSCODING_SEPARATOR not in name:
        return name
    return transcode_split(name)[0]


# The underscored names are the ones Kedro code imports from ``kedro.pipeline.transcoding``.
_transcode_split = transcode_split
_strip_transcoding = strip_transcoding

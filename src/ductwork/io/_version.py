"""Version values and timestamps shared by versioned datasets and the catalog."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import NamedTuple

from ductwork.exceptions import DatasetError

VERSION_FORMAT = "%Y-%m-%dT%H.%M.%S.%fZ"
"""``strftime`` format of generated versions; :func:`generate_timestamp` keeps milliseconds."""


class Version(NamedTuple):
    """Which version a versioned dataset loads and which it saves.

    ``None`` means "the newest one" for ``load`` and "a new timestamp" for ``save``.
    """

    load: str | None
    save: str | None


def generate_timestamp() -> str:
    """Return the current UTC time as a version string, e.g. ``2024-05-01T10.20.30.123Z``.

    Such strings sort in time order, which is how the newest version is found.
    """
    stamp = datetime.now(tz=timezone.utc).strftime(VERSION_FORMAT)
    # %f gives microseconds; keep milliseconds and the trailing "Z".
    return stamp[:-4] + stamp[-1:]


def check_version_string(version: str | None, what: str = "version") -> None:
    """Refuse a version that would not name a single folder inside the dataset's folder.

    Args:
        version: The version to check; ``None`` passes.
        what: How the version is called in the error message.

    Raises:
        DatasetError: The version is empty, ``.`` or ``..``, or holds a path separator or NUL.
    """
    if version is None:
        return
    if not isinstance(version, str):
        raise DatasetError(f"The {what} must be a string, got {type(version).__name__}.")
    if version in {"", ".", ".."} or any(char in version for char in "/\\\0"):
        raise DatasetError(
            f"The {what} {version!r} is not allowed: a version must name one folder, "
            "so it may not be empty, '.' or '..', nor contain '/', '\\' or NUL."
        )


def check_version(version: Version | None) -> None:
    """Apply :func:`check_version_string` to both halves of ``version``."""
    if version is None:
        return
    check_version_string(version.load, "load version")
    check_version_string(version.save, "save version")

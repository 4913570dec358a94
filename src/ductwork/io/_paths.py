"""Split dataset file paths into an fsspec protocol and a path, and back."""

from __future__ import annotations

import re
from pathlib import PurePath
from urllib.parse import urlsplit

from ductwork.exceptions import DatasetError

HTTP_PROTOCOLS = ("http", "https")
# Object stores: the URL's host is the bucket (or container), which fsspec wants in the path.
CLOUD_PROTOCOLS = (
    "abfs",
    "abfss",
    "adl",
    "gcs",
    "gdrive",
    "gs",
    "oci",
    "oss",
    "s3",
    "s3a",
    "s3n",
)
PROTOCOL_DELIMITER = "://"
# Protocols whose URL host is a server to connect to (given to the filesystem as `host` and
# `port`), so the path starts at the server's root and does not include it.
_HOST_IS_SERVER = ("hdfs", "webhdfs", "viewfs", "sftp", "ssh", "ftp", "smb")
# Protocols whose URL user part names a container rather than a login, so it stays in the path.
_USER_IS_CONTAINER = ("abfs", "abfss", "oci")

_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")
_HAS_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")
_WINDOWS_FILE_URL = re.compile(r"^/([A-Za-z])[:|]([\\/].*)$")


def get_protocol_and_path(filepath: str, version: object | None = None) -> tuple[str, str]:
    """Return the fsspec protocol of ``filepath`` and the path to give that filesystem.

    Local paths (relative, absolute, Windows drives, ``file://`` URLs) have protocol ``"file"``.
    A login written into a cloud URL (``s3://key:secret@bucket``) is dropped from the path: pass
    it as ``credentials`` instead. For servers (``hdfs://namenode:8020/data/x``) the path starts
    at the server's root (``/data/x``); the host and port are the filesystem's options. A query
    or fragment stays in the path, where object stores may use it as part of the key.

    Args:
        filepath: A local path or a URL.
        version: The dataset's version, if versioned; HTTP paths cannot be versioned.

    Raises:
        DatasetError: ``version`` is given for an HTTP(S) URL.
    """
    if _WINDOWS_DRIVE.match(filepath) or not _HAS_SCHEME.match(filepath):
        return "file", filepath
    parts = urlsplit(filepath)
    protocol = parts.scheme.lower()
    if protocol in HTTP_PROTOCOLS:
        if version is not None:
            raise DatasetError(
                "Versioning is not supported for HTTP protocols. Please remove the `versioned` "
                "flag from the dataset configuration."
            )
        return protocol, filepath.split(PROTOCOL_DELIMITER, 1)[1]
    path = parts.path
    if protocol == "file":
        drive = _WINDOWS_FILE_URL.match(path)
        return protocol, ":".join(drive.groups()) if drive else path
    if parts.query:
        path = f"{path}?{parts.query}"
    if parts.fragment:
        path = f"{path}#{parts.fragment}"
    if protocol in _HOST_IS_SERVER:
        return protocol, path
    host = parts.netloc.rsplit("@", 1)[-1]
    if protocol in _USER_IS_CONTAINER and parts.username:
        host = f"{parts.username}@{host}"
    return protocol, host + path


def get_filepath_str(raw_path: PurePath, protocol: str) -> str:
    """Return the string an fsspec filesystem of ``protocol`` expects for ``raw_path``."""
    path = raw_path.as_posix()
    if protocol in HTTP_PROTOCOLS:
        path = f"{protocol}{PROTOCOL_DELIMITER}{path}"
    return path

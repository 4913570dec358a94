"""Finding configuration files in an environment folder, and reading one.

Every configuration file ductwork reads (catalogs, parameters, credentials, globals) goes
through :func:`read_config_file`, so there is one place that decides how YAML is parsed.
"""

from __future__ import annotations

import fnmatch
from pathlib import Path
from typing import Any

from ductwork.io.safe_yaml import load_yaml_file

__all__ = ["PATTERNS", "SUFFIXES", "config_files", "read_config_file"]

# The stem patterns of each kind of configuration; a folder whose name matches is read whole
# (``catalog/**``), so a large catalog can be split into files by topic.
PATTERNS: dict[str, tuple[str, ...]] = {
    "catalog": ("catalog*",),
    "parameters": ("parameters*",),
    "credentials": ("credentials*",),
    "globals": ("globals*",),
}
SUFFIXES = (".yml", ".yaml", ".json")


def _visible(path: Path) -> bool:
    return not path.name.startswith(".")


def _in_folder(folder: Path) -> list[Path]:
    return sorted(
        path
        for path in folder.rglob("*")
        if path.is_file()
        and path.suffix in SUFFIXES
        and all(_visible(part) for part in path.relative_to(folder).parents)
        and _visible(path)
    )


def config_files(folder: Path, kind: str) -> list[Path]:
    """The files of ``kind`` in one environment folder, in a stable order.

    A file matches when its name without the suffix matches a pattern of ``kind``
    (``catalog.yml``, ``catalog_models.yaml``); a folder matches by its name and gives every
    YAML or JSON file under it. Hidden files and folders are skipped.
    """
    found: list[Path] = []
    for entry in sorted(folder.iterdir()) if folder.is_dir() else ():
        if not _visible(entry):
            continue
        name = entry.stem if entry.is_file() else entry.name
        if not any(fnmatch.fnmatchcase(name, pattern) for pattern in PATTERNS[kind]):
            continue
        if entry.is_file() and entry.suffix in SUFFIXES:
            found.append(entry)
        elif entry.is_dir():
            found.extend(_in_folder(entry))
    return found


def read_config_file(path: Path, what: str = "configuration") -> Any:
    """Parse one YAML (or JSON) configuration file, within the safe loader's limits.

    Raises:
        ProjectConfigError: The file cannot be read, is not valid YAML, or exceeds the size,
            depth or alias-expansion limits (a ``YAMLFileError`` naming the file and line).
    """
    return load_yaml_file(path, what=what)

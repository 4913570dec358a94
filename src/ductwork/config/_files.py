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

# The name patterns of each kind of configuration: files whose stem matches, at any depth, and
# every file in a folder whose name matches (``catalog/**``), so a large catalog can be split
# into files by topic or by pipeline.
PATTERNS: dict[str, tuple[str, ...]] = {
    "catalog": ("catalog*",),
    "parameters": ("parameters*",),
    "credentials": ("credentials*",),
    "globals": ("globals*",),
}
SUFFIXES = (".yml", ".yaml", ".json")


def _visible(relative: Path) -> bool:
    return not any(part.startswith(".") for part in relative.parts)


def _matches(name: str, kind: str) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in PATTERNS[kind])


def config_files(folder: Path, kind: str) -> list[Path]:
    """The files of ``kind`` in one environment folder, in a stable order.

    A YAML or JSON file matches when its name without the suffix matches a pattern of ``kind``
    (``catalog.yml``, ``catalog_models.yaml``, ``pipelines/ds/catalog.yml``) or when a folder
    it is in does (``catalog/models.yml``). Hidden files and folders are skipped.
    """
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if not path.is_file() or path.suffix not in SUFFIXES or not _visible(relative):
            continue
        if _matches(path.stem, kind) or any(_matches(part, kind) for part in relative.parts[:-1]):
            found.append(path)
    return found


def read_config_file(path: Path, what: str = "configuration") -> Any:
    """Parse one YAML (or JSON) configuration file, within the safe loader's limits.

    Raises:
        ProjectConfigError: The file cannot be read, is not valid YAML, or exceeds the size,
            depth or alias-expansion limits (a ``YAMLFileError`` naming the file and line).
    """
    return load_yaml_file(path, what=what)

"""The configuration of a project: ``conf/base``, then ``conf/<env>``, resolved.

Rules (the README's "Configuration" section says the same, with examples):

- Each kind (``catalog``, ``parameters``, ``credentials``, ``globals``) is read from the files
  of :data:`~ductwork.config._files.PATTERNS` in the base environment, then in the chosen one.
- Within one environment a top-level key may be set by one file only; a second file setting it
  is an error naming both.
- A later environment overrides an earlier one key by key: a whole top-level entry for the
  catalog and credentials (an entry is one unit), and at every depth for parameters and globals
  (``local`` may change one nested parameter).
- ``--params key=value`` (runtime parameters) override parameters last, and are read anywhere
  as ``${runtime_params:key}``; globals are read anywhere as ``${globals:key}``; both take a
  default (``${globals:key, default}``).
- ``${...}`` is resolved after merging, so a reference sees the value of the environment that
  won. Anything unresolved is an error naming the file, the key and the reference.
- Top-level keys starting with ``_`` are for YAML anchors and interpolation only and are dropped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ductwork.config._files import PATTERNS, config_files, read_config_file
from ductwork.config._resolve import resolve
from ductwork.config.runtime_params import deep_merge
from ductwork.exceptions import ProjectConfigError

__all__ = ["ConfigLoader", "ConfigSource"]

BASE_ENV = "base"
DEFAULT_ENV = "local"
RUNTIME_ORIGIN = "--params"
_DEEP = frozenset({"parameters", "globals"})


@dataclass(frozen=True)
class ConfigSource:
    """One file's top-level mapping (or the runtime parameters, when ``path`` is None)."""

    path: Path | None
    data: Mapping[str, Any]

    def __str__(self) -> str:
        return str(self.path) if self.path is not None else RUNTIME_ORIGIN


def _read(path: Path, kind: str) -> ConfigSource:
    data = read_config_file(path, kind)
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ProjectConfigError(
            f"The {kind} file {path} must hold a mapping of keys, not a {type(data).__name__}."
        )
    return ConfigSource(path, data)


def _merge_one_environment(sources: Sequence[ConfigSource]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    owner: dict[Any, ConfigSource] = {}
    for source in sources:
        for key, value in source.data.items():
            if key in owner:
                raise ProjectConfigError(
                    f"Duplicate key '{key}' in {owner[key]} and {source}: within one "
                    "environment each top-level key belongs to one file."
                )
            owner[key] = source
            merged[key] = value
    return merged


def _has_path(data: Any, dotted: str) -> bool:
    node = data
    for part in dotted.split("[", maxsplit=1)[0].split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
    return True


def _starts(dotted: str, key: str) -> bool:
    return dotted == key or dotted.startswith((f"{key}.", f"{key}["))


class ConfigLoader:
    """Load and resolve a project's configuration.

    Args:
        conf_source: The configuration folder (``conf``), holding one folder per environment;
            None for a project without one (only :meth:`from_files` gives anything then).
        env: The environment laid over ``base`` (default ``local``). ``None`` reads base only.
        env_required: Raise if the ``env`` folder does not exist (an ``--env`` the user typed);
            otherwise a missing folder means base only.
        runtime_params: ``--params key=value`` values, already parsed.

    Example:
        >>> loader = ConfigLoader(Path("conf"), env="prod", runtime_params={"alpha": 0.1})
        >>> loader["parameters"]["alpha"]
        0.1
    """

    def __init__(
        self,
        conf_source: Path | None,
        env: str | None = DEFAULT_ENV,
        *,
        env_required: bool = False,
        runtime_params: Mapping[str, Any] | None = None,
    ) -> None:
        self.conf_source = Path(conf_source) if conf_source is not None else None
        self.env = env
        self.runtime_params = dict(runtime_params or {})
        self._cache: dict[str, dict[str, Any]] = {}
        self._origins: dict[str, dict[str, str]] = {}
        if self.conf_source is not None:
            self._check_folders(self.conf_source, env_required)
        elif env_required and env:
            raise ProjectConfigError(
                f"Environment '{env}' was asked for, but the project has no configuration "
                "folder (conf/base): create it, or give --conf-source."
            )

    def _check_folders(self, conf_source: Path, env_required: bool) -> None:
        if not conf_source.is_dir():
            raise ProjectConfigError(f"The configuration folder {conf_source} does not exist.")
        if not (conf_source / BASE_ENV).is_dir():
            raise ProjectConfigError(
                f"The configuration folder {conf_source} has no '{BASE_ENV}' environment "
                f"({conf_source / BASE_ENV} is missing)."
            )
        if env_required and self.env and not (conf_source / self.env).is_dir():
            found = sorted(p.name for p in conf_source.iterdir() if p.is_dir())
            raise ProjectConfigError(
                f"--env {self.env}: {conf_source / self.env} does not exist; the "
                f"environments are: {', '.join(found)}."
            )

    @property
    def environments(self) -> list[Path]:
        """The environment folders read, in order: base, then ``env`` if it exists."""
        if self.conf_source is None:
            return []
        folders = [self.conf_source / BASE_ENV]
        if self.env and self.env != BASE_ENV and (self.conf_source / self.env).is_dir():
            folders.append(self.conf_source / self.env)
        return folders

    def layers(self, kind: str) -> list[list[ConfigSource]]:
        """The files of ``kind``, one list per environment."""
        if kind not in PATTERNS:
            raise KeyError(f"No configuration kind {kind!r}; the kinds are {', '.join(PATTERNS)}.")
        return [
            [_read(path, kind) for path in config_files(folder, kind)]
            for folder in self.environments
        ]

    def __getitem__(self, kind: str) -> dict[str, Any]:
        """The resolved configuration of ``kind`` (cached)."""
        if kind not in self._cache:
            environments = self.layers(kind)
            layers = [_merge_one_environment(files) for files in environments]
            sources = [source for files in environments for source in files]
            self._cache[kind] = self.load(kind, layers, sources)
        return self._cache[kind]

    def origins(self, kind: str) -> dict[str, str]:
        """The file each top-level key of ``kind`` came from (the one that won), once loaded."""
        return dict(self._origins.get(kind, {}))

    def from_files(self, kind: str, paths: Sequence[Path]) -> dict[str, Any]:
        """The configuration of ``kind`` from files named on the command line, in order.

        Each file overrides the ones before it, by the rules of environments; globals and
        runtime parameters apply as they do to the folder's files.
        """
        sources = [_read(Path(path), kind) for path in paths]
        return self.load(kind, [source.data for source in sources], sources)

    def load(
        self,
        kind: str,
        layers: Sequence[Mapping[str, Any]],
        sources: Sequence[ConfigSource],
    ) -> dict[str, Any]:
        """Merge ``layers`` (later ones win), add runtime parameters, resolve ``${...}``.

        ``sources`` are the files the layers came from, to name the one at fault in errors.
        """
        merged: dict[str, Any] = {}
        for layer in layers:
            merged = deep_merge(merged, layer) if kind in _DEEP else {**merged, **layer}
        if kind == "parameters" and self.runtime_params:
            merged = deep_merge(merged, self.runtime_params)
            sources = [*sources, ConfigSource(None, self.runtime_params)]
        values = {"runtime_params": self.runtime_params}
        if kind != "globals":
            values["globals"] = self["globals"]

        def origin(dotted: str) -> str:
            for source in reversed(sources):
                if _has_path(source.data, dotted):
                    return str(source)
            # A key OmegaConf spells its own way ('' or dots inside a key): the file of the
            # top-level key it starts with, else every file of the kind.
            for source in reversed(sources):
                if any(_starts(dotted, str(key)) for key in source.data):
                    return str(source)
            return ", ".join(dict.fromkeys(map(str, sources))) or f"the {kind} configuration"

        self._origins[kind] = {
            str(key): next((str(s) for s in reversed(sources) if key in s.data), str(kind))
            for key in merged
        }
        resolved = resolve(merged, kind, origin, values)
        return {key: value for key, value in resolved.items() if not str(key).startswith("_")}

"""What a command line names: the pipeline, the catalog, the parameters, the project settings.

``PIPELINE`` is ``module:attribute``. The attribute may be a :class:`~ductwork.pipeline.Pipeline`,
a mapping of names to pipelines (chosen with ``--pipeline NAME``, else ``__default__``), or a
callable that returns either. The current directory is searched first for the module, as
``python -m`` does. Settings the command line leaves out come from ``[tool.ductwork]`` in the
current directory's ``pyproject.toml``.

Every mistake here raises :class:`~ductwork.exceptions.ProjectConfigError` naming the file, key
or attribute at fault; the command turns it into exit code 2.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from ductwork.exceptions import ProjectConfigError
from ductwork.io import DataCatalog
from ductwork.io.safe_yaml import load_yaml_file
from ductwork.pipeline import Pipeline

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = [
    "ProjectSettings",
    "load_catalog",
    "load_params",
    "load_pipeline",
    "param_datasets",
    "read_settings",
]

DEFAULT_PIPELINE = "__default__"


@dataclass(frozen=True)
class ProjectSettings:
    """The ``[tool.ductwork]`` table; every key is optional."""

    pipeline: str | None = None
    pipeline_name: str | None = None
    catalog: str | None = None
    params: tuple[str, ...] = ()
    runner: str | None = None
    max_workers: int | None = None
    journal_dir: str | None = None
    cache: str | None = None
    source: Path | None = field(default=None, compare=False)


_KEY_TYPES: dict[str, type] = {
    "pipeline": str,
    "pipeline_name": str,
    "catalog": str,
    "runner": str,
    "max_workers": int,
    "journal_dir": str,
    "cache": str,
}


def read_settings(directory: Path) -> ProjectSettings:
    """Read ``[tool.ductwork]`` from ``directory/pyproject.toml`` (empty settings if none)."""
    path = directory / "pyproject.toml"
    if not path.is_file():
        return ProjectSettings()
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8")).get("tool", {}).get("ductwork")
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ProjectConfigError(f"Cannot read {path}: {error}") from error
    if table is None:
        return ProjectSettings()
    known = {f.name for f in fields(ProjectSettings)} - {"source"}
    unknown = sorted(set(table) - known)
    if unknown:
        raise ProjectConfigError(
            f"{path}: unknown key(s) {', '.join(unknown)} in [tool.ductwork]; the keys are "
            f"{', '.join(sorted(known))}."
        )
    values: dict[str, Any] = {}
    for key, value in table.items():
        values[key] = _checked(path, key, value)
    return ProjectSettings(**values, source=path)


def _checked(path: Path, key: str, value: Any) -> Any:
    if key == "params":
        items = [value] if isinstance(value, str) else value
        if isinstance(items, list) and all(isinstance(item, str) for item in items):
            return tuple(items)
        raise ProjectConfigError(
            f"{path}: [tool.ductwork] params must be a path or a list of paths."
        )
    kind = _KEY_TYPES[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ProjectConfigError(
            f"{path}: [tool.ductwork] {key} must be a {kind.__name__}, not {value!r}."
        )
    return value


def load_pipeline(spec: str, name: str | None) -> tuple[Pipeline, str | None]:
    """Import the pipeline ``spec`` names (and pick ``name`` from a mapping of pipelines).

    Returns:
        The pipeline, and its name in the mapping (None when ``spec`` names one pipeline).
    """
    target = _import_target(spec)
    if callable(target) and not isinstance(target, Pipeline):
        target = _call(spec, target)
    if isinstance(target, Pipeline):
        if name is not None:
            raise ProjectConfigError(
                f"--pipeline {name}: '{spec}' is a single pipeline, not a mapping of named ones."
            )
        return target, None
    if isinstance(target, Mapping):
        return _pick(spec, target, name)
    raise ProjectConfigError(
        f"'{spec}' is a {type(target).__name__}, not a Pipeline, a mapping of pipelines, or a "
        "function returning one."
    )


def _import_target(spec: str) -> Any:
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ProjectConfigError(
            f"PIPELINE must look like 'module:attribute' (e.g. 'myproject.pipelines:pipeline'), "
            f"not {spec!r}."
        )
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # as `python -m` does: the project's own modules
    try:
        target: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name and module_name.startswith(error.name):
            raise ProjectConfigError(
                f"Cannot import module '{module_name}' of '{spec}': no module named "
                f"'{error.name}' in the current directory or on sys.path."
            ) from error
        raise ProjectConfigError(f"Importing '{module_name}' failed: {error}") from error
    except Exception as error:
        raise ProjectConfigError(
            f"Importing '{module_name}' failed: {type(error).__name__}: {error}"
        ) from error
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise ProjectConfigError(
                f"'{spec}': '{module_name}' has no attribute '{attribute}'."
            ) from None
    return target


def _call(spec: str, factory: Callable[[], Any]) -> Any:
    try:
        return factory()
    except Exception as error:
        raise ProjectConfigError(
            f"Calling '{spec}' to build the pipeline failed: {type(error).__name__}: {error}"
        ) from error


def _pick(spec: str, pipelines: Mapping[Any, Any], name: str | None) -> tuple[Pipeline, str]:
    names = ", ".join(sorted(map(str, pipelines))) or "none"
    chosen = name if name is not None else DEFAULT_PIPELINE
    if chosen not in pipelines:
        hint = "choose one with --pipeline NAME" if name is None else "check --pipeline"
        raise ProjectConfigError(
            f"'{spec}' has no pipeline named '{chosen}' ({hint}); it has: {names}."
        )
    pipeline = pipelines[chosen]
    if not isinstance(pipeline, Pipeline):
        raise ProjectConfigError(
            f"'{spec}'['{chosen}'] is a {type(pipeline).__name__}, not a Pipeline."
        )
    return pipeline, chosen


def _read_yaml(path: str, what: str) -> Any:
    return load_yaml_file(path, what=what)


def load_catalog(path: str | None, catalog_class: type[DataCatalog]) -> DataCatalog:
    """A catalog of ``catalog_class`` from the YAML file at ``path`` (empty when None)."""
    if path is None:
        return catalog_class()
    config = _read_yaml(path, "catalog")
    if config is None:
        return catalog_class()
    if not isinstance(config, dict):
        raise ProjectConfigError(f"The catalog file {path} must hold a mapping of dataset entries.")
    return catalog_class.from_config(config)


def load_params(paths: Iterable[str]) -> dict[str, Any]:
    """The parameters of every YAML file in ``paths``, merged (later files win, key by key)."""
    merged: dict[str, Any] = {}
    for path in paths:
        loaded = _read_yaml(path, "parameters")
        if loaded is None:
            continue
        if not isinstance(loaded, dict):
            raise ProjectConfigError(f"The parameters file {path} must hold a mapping.")
        merged = _deep_merge(merged, loaded)
    return merged


def _deep_merge(base: dict[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def param_datasets(params: Mapping[str, Any]) -> dict[str, Any]:
    """The datasets a pipeline reads parameters from, as Kedro names them.

    ``parameters`` is the whole mapping; ``params:a`` is the value of key ``a``, and nested keys
    are joined with dots at every depth: ``params:a.b`` is ``params["a"]["b"]``.
    """
    datasets: dict[str, Any] = {"parameters": dict(params)}

    def walk(prefix: str, value: Any) -> None:
        datasets[f"params:{prefix}"] = value
        if isinstance(value, Mapping):
            for key, item in value.items():
                walk(f"{prefix}.{key}", item)

    for key, value in params.items():
        walk(str(key), value)
    return datasets

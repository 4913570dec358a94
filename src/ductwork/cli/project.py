"""What a command line names: the pipeline, the catalog, the parameters, the project settings.

``PIPELINE`` is ``module:attribute``. The attribute may be a :class:`~ductwork.pipeline.Pipeline`,
a mapping of names to pipelines (chosen with ``--pipeline NAME``, else ``__default__``), or a
callable that returns either. The current directory is searched first for the module, as
``python -m`` does. Settings the command line leaves out come from ``[tool.ductwork]`` (and
``[tool.kedro]``) in the ``pyproject.toml`` of the project: the nearest one at or above the
current directory that has either table.

Every mistake here raises :class:`~ductwork.exceptions.ProjectConfigError` naming the file, key
or attribute at fault; the command turns it into exit code 2.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from ductwork.exceptions import ProjectConfigError
from ductwork.pipeline import Pipeline

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = [
    "ProjectSettings",
    "default_pipeline",
    "enter_project",
    "find_project",
    "kedro_missing",
    "load_pipeline",
    "param_datasets",
    "read_settings",
]

DEFAULT_PIPELINE = "__default__"


KEDRO_HINT = (
    "To run it with Kedro on ductwork's runners, install Kedro and run "
    "`kedro run --runner=ductwork.kedro.ParallelRunner` (or SequentialRunner, ThreadRunner, "
    "DaskRunner); to run it with `ductwork run`, change `kedro` to `ductwork` in its imports."
)


@dataclass(frozen=True)
class ProjectSettings:
    """The ``[tool.ductwork]`` table (and ``[tool.kedro]``'s package); every key is optional.

    ``root`` is the folder of the ``pyproject.toml`` they came from (None: no project found).
    """

    pipeline: str | None = None
    pipeline_name: str | None = None
    catalog: tuple[str, ...] = ()
    params: tuple[str, ...] = ()
    runner: str | None = None
    max_workers: int | None = None
    journal_dir: str | None = None
    cache: str | None = None
    conf_source: str | None = None
    env: str | None = None
    hooks: tuple[str, ...] = ()
    disable_hooks_for_plugins: tuple[str, ...] = ()
    package_name: str | None = None
    source_dir: str | None = None
    source: Path | None = field(default=None, compare=False)
    kedro: bool = field(default=False, compare=False)

    @property
    def root(self) -> Path | None:
        """The project's folder."""
        return self.source.parent if self.source is not None else None


_KEY_TYPES: dict[str, type] = {
    "pipeline": str,
    "pipeline_name": str,
    "runner": str,
    "max_workers": int,
    "journal_dir": str,
    "cache": str,
    "conf_source": str,
    "env": str,
    "package_name": str,
    "source_dir": str,
}
_LIST_KEYS = frozenset({"catalog", "params", "hooks", "disable_hooks_for_plugins"})
_INTERNAL = frozenset({"source", "kedro"})


def _tool_tables(path: Path) -> tuple[Any, Any]:
    try:
        tool = tomllib.loads(path.read_text(encoding="utf-8")).get("tool", {})
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ProjectConfigError(f"Cannot read {path}: {error}") from error
    return tool.get("ductwork"), tool.get("kedro")


def find_project(start: Path) -> Path | None:
    """The nearest ``pyproject.toml`` at or above ``start`` with ``[tool.ductwork]`` or
    ``[tool.kedro]`` (None if there is none)."""
    for folder in (start, *start.parents):
        path = folder / "pyproject.toml"
        if path.is_file() and any(table is not None for table in _tool_tables(path)):
            return path
    return None


def read_settings(directory: Path) -> ProjectSettings:
    """Read the settings of the project ``directory`` is in (empty settings if none).

    The project is found by :func:`find_project`. ``[tool.kedro]`` gives ``package_name`` and
    ``source_dir`` (default ``src``) when ``[tool.ductwork]`` does not.
    """
    path = find_project(directory.resolve())
    if path is None:
        return ProjectSettings()
    table, kedro = _tool_tables(path)
    table = dict(table or {})
    known = {f.name for f in fields(ProjectSettings)} - _INTERNAL
    unknown = sorted(set(table) - known)
    if unknown:
        raise ProjectConfigError(
            f"{path}: unknown key(s) {', '.join(unknown)} in [tool.ductwork]; the keys are "
            f"{', '.join(sorted(known))}."
        )
    values: dict[str, Any] = {key: _checked(path, key, value) for key, value in table.items()}
    if isinstance(kedro, dict):
        for key, default in (("package_name", None), ("source_dir", "src")):
            value = kedro.get(key, default)
            if key not in values and value is not None:
                values[key] = _checked(path, key, value)
    return ProjectSettings(**values, source=path, kedro=kedro is not None)


def _checked(path: Path, key: str, value: Any) -> Any:
    if key in _LIST_KEYS:
        items = [value] if isinstance(value, str) else value
        if isinstance(items, list) and all(isinstance(item, str) for item in items):
            return tuple(items)
        raise ProjectConfigError(
            f"{path}: [tool.ductwork] {key} must be a string or a list of strings."
        )
    kind = _KEY_TYPES[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ProjectConfigError(
            f"{path}: [tool.ductwork] {key} must be a {kind.__name__}, not {value!r}."
        )
    return value


def enter_project(settings: ProjectSettings) -> None:
    """Work from the project's folder, with its source folder on ``sys.path``.

    ``ductwork run`` may be started in any subfolder; relative paths in the configuration
    (``data/01_raw/x.csv``) mean the same as when it is started at the root.
    """
    root = settings.root
    if root is None:
        return
    if Path.cwd().resolve() != root.resolve():
        os.chdir(root)
    folders = [root]
    if settings.source_dir:
        folders.insert(0, root / settings.source_dir)
    for folder in reversed(folders):
        if folder.is_dir() and str(folder) not in sys.path:
            sys.path.insert(0, str(folder))


def default_pipeline(settings: ProjectSettings) -> str | None:
    """``pipeline`` if set, else ``<package>.pipeline_registry:register_pipelines``."""
    if settings.pipeline is not None:
        return settings.pipeline
    if settings.package_name is not None:
        return f"{settings.package_name}.pipeline_registry:register_pipelines"
    return None


def load_pipeline(spec: str, name: str | None) -> tuple[Pipeline, str | None]:
    """Import the pipeline ``spec`` names (and pick ``name`` from a mapping of pipelines).

    Returns:
        The pipeline, and its name in the mapping (None when ``spec`` names one pipeline).
    """
    target = _import_target(spec)
    if callable(target) and not isinstance(target, Pipeline):
        target = _call(spec, target)
    _refuse_kedro_objects(spec, target)
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


def _refuse_kedro_objects(spec: str, target: Any) -> None:
    values = target.values() if isinstance(target, Mapping) else [target]
    if any(type(value).__module__.split(".")[0] == "kedro" for value in values):
        raise ProjectConfigError(
            f"'{spec}' gives Kedro pipelines: this project's code imports `kedro`. {KEDRO_HINT}"
        )


def kedro_missing(error: BaseException, what: str) -> ProjectConfigError | None:
    """The error to show when ``error`` comes from a missing ``kedro`` module (else None)."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ModuleNotFoundError) and (seen.name or "").split(".")[0] == "kedro":
            return ProjectConfigError(
                f"{what} imports `{seen.name}`, and Kedro is not installed: this is a Kedro "
                f"project's code. {KEDRO_HINT}"
            )
        seen = seen.__cause__ or seen.__context__
    return None


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
        kedro = kedro_missing(error, f"'{module_name}'")
        if kedro is not None:
            raise kedro from error
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
    except ProjectConfigError:
        raise
    except Exception as error:
        kedro = kedro_missing(error, f"Calling '{spec}'")
        if kedro is not None:
            raise kedro from error
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

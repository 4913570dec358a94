"""What a run is configured with: the catalog, parameters, credentials and hooks of a project.

The command line's ``--catalog``, ``--params``, ``--env``, ``--conf-source`` and ``--hooks``
meet ``[tool.ductwork]``, a Kedro-shaped ``<package>/settings.py`` and the configuration
folder here; :class:`~ductwork.config.ConfigLoader` applies the configuration rules. Every
mistake is a :class:`~ductwork.exceptions.ProjectConfigError` raised before any node runs.
"""

from __future__ import annotations

import importlib
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pluggy

from ductwork.cli.project import ProjectSettings, kedro_missing, param_datasets
from ductwork.config import ConfigLoader
from ductwork.config.runtime_params import is_runtime_param, parse_runtime_params
from ductwork.exceptions import DuctworkError, ProjectConfigError
from ductwork.hooks import create_hook_manager
from ductwork.hooks.manager import register_entry_point_hooks, register_hooks
from ductwork.io import DataCatalog

__all__ = ["ConfigOptions", "ProjectConfig", "load_hooks", "load_project_config"]

ENV_VARIABLE = "DUCTWORK_ENV"
DEFAULT_CONF = "conf"
_logger = logging.getLogger(__name__)
# settings.py names ductwork reads; the others a Kedro project may set are reported as ignored.
_SETTINGS_READ = ("HOOKS", "DISABLE_HOOKS_FOR_PLUGINS", "CONF_SOURCE")


@dataclass(frozen=True)
class ConfigOptions:
    """The command line's configuration options (paths relative to where it was typed)."""

    catalog: tuple[str, ...] = ()
    params: tuple[str, ...] = ()
    env: str | None = None
    conf_source: str | None = None
    hooks: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProjectConfig:
    """The resolved configuration of one run."""

    catalog: dict[str, Any]
    credentials: dict[str, Any]
    parameters: dict[str, Any]
    env: str | None
    conf_source: Path | None
    catalog_origins: dict[str, str] = field(default_factory=dict)

    def make_catalog(self, catalog_class: type[DataCatalog]) -> DataCatalog:
        """A catalog of the entries, with credentials by name and ``params:`` datasets.

        Raises:
            ProjectConfigError: An entry is malformed: the message names the file that holds
                it, then the entry and the key.
        """
        try:
            catalog = catalog_class.from_config(self.catalog, self.credentials)
        except DuctworkError as error:
            raise ProjectConfigError(
                f"The catalog file {self._blame(catalog_class)}: {error}"
            ) from error
        for key, value in param_datasets(self.parameters).items():
            catalog[key] = value
        return catalog

    def _blame(self, catalog_class: type[DataCatalog]) -> str:
        """The file of the entry that fails on its own (or of every entry, if none does)."""
        for name, entry in self.catalog.items():
            try:
                catalog_class.from_config({name: entry}, self.credentials)
            except DuctworkError:
                return self.catalog_origins.get(str(name), "(not known)")
        return ", ".join(sorted(set(self.catalog_origins.values()))) or "(not known)"

    def __repr__(self) -> str:  # the credentials must never be printed
        return (
            f"ProjectConfig(catalog={sorted(self.catalog)}, credentials=<{len(self.credentials)} "
            f"hidden>, parameters={sorted(self.parameters)}, env={self.env!r})"
        )


def _absolute(path: str, base: Path) -> Path:
    """``path`` from ``base``; as given when ``base`` is where the run works (shorter errors)."""
    if Path(path).is_absolute() or base.resolve() == Path.cwd().resolve():
        return Path(path)
    return base / path


def _settings_module(settings: ProjectSettings) -> ModuleType | None:
    """``<package>.settings`` of a Kedro-shaped project, if the file exists."""
    if settings.package_name is None or settings.root is None:
        return None
    folder = settings.root / (settings.source_dir or ".") / settings.package_name
    if not (folder / "settings.py").is_file():
        return None
    name = f"{settings.package_name}.settings"
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as error:
        raise kedro_missing(error, str(folder / "settings.py")) or ProjectConfigError(
            f"Importing {folder / 'settings.py'} failed: {error}"
        ) from error
    except Exception as error:
        raise ProjectConfigError(
            f"Importing {folder / 'settings.py'} failed: {type(error).__name__}: {error}"
        ) from error
    ignored = sorted(key for key in vars(module) if key.isupper() and key not in _SETTINGS_READ)
    if ignored:
        _logger.warning(
            "%s sets %s, which ductwork does not use (it reads %s).",
            module.__file__,
            ", ".join(ignored),
            ", ".join(_SETTINGS_READ),
        )
    return module


def _conf_source(options: ConfigOptions, settings: ProjectSettings, cwd: Path) -> Path | None:
    module = _settings_module(settings)
    root = settings.root or cwd
    if options.conf_source is not None:
        return _absolute(options.conf_source, cwd)
    given = settings.conf_source or (getattr(module, "CONF_SOURCE", None) if module else None)
    if given is not None:
        return _absolute(str(given), root)
    default = root / DEFAULT_CONF
    return default if (default / "base").is_dir() else None


def load_project_config(
    options: ConfigOptions, settings: ProjectSettings, cwd: Path
) -> ProjectConfig:
    """Load the catalog, credentials and parameters the options and settings point at.

    ``--catalog`` and ``--params FILE`` replace the configuration folder's catalog and
    parameters with the files named (in order, later files winning); ``--params key=value``
    always applies. Credentials come from the folder's ``credentials*`` files.
    """
    root = settings.root or cwd
    catalog_files = [_absolute(item, cwd) for item in options.catalog] or [
        _absolute(item, root) for item in settings.catalog
    ]
    param_files = [_absolute(item, cwd) for item in options.params if not is_runtime_param(item)]
    if not param_files:
        param_files = [_absolute(p, root) for p in settings.params if not is_runtime_param(p)]
    runtime = parse_runtime_params(
        item for item in (*settings.params, *options.params) if is_runtime_param(item)
    )
    env_given = options.env or os.environ.get(ENV_VARIABLE) or settings.env
    conf_source = _conf_source(options, settings, cwd)
    loader = ConfigLoader(
        conf_source,
        env=env_given or "local",
        env_required=env_given is not None,
        runtime_params=runtime,
    )
    catalog = loader.from_files("catalog", catalog_files) if catalog_files else loader["catalog"]
    parameters = (
        loader.from_files("parameters", param_files) if param_files else loader["parameters"]
    )
    return ProjectConfig(
        catalog,
        loader["credentials"],
        parameters,
        loader.env if conf_source else None,
        conf_source,
        loader.origins("catalog"),
    )


def _import_hooks(spec: str, source: str) -> Any:
    module_name, colon, attribute = spec.partition(":")
    if not colon:
        module_name, _, attribute = spec.rpartition(".")
    if not module_name or not attribute:
        raise ProjectConfigError(f"{source}: {spec!r} must look like 'package.module:HooksClass'.")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        raise kedro_missing(error, f"{source} ({module_name})") or ProjectConfigError(
            f"{source}: cannot import '{module_name}': {error}"
        ) from error
    except Exception as error:
        raise ProjectConfigError(
            f"{source}: importing '{module_name}' failed: {type(error).__name__}: {error}"
        ) from error
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise ProjectConfigError(f"{source}: '{module_name}' has no '{attribute}'.") from None


def _split(values: tuple[str, ...]) -> list[str]:
    return [name.strip() for value in values for name in value.split(",") if name.strip()]


def load_hooks(options: ConfigOptions, settings: ProjectSettings) -> pluggy.PluginManager:
    """A hook manager with the project's hooks and the installed plugins' hooks.

    Sources, in the order they are registered: ``HOOKS`` of the project's ``settings.py``,
    ``[tool.ductwork] hooks``, ``--hooks``, then the ``ductwork.hooks`` entry points not named
    in ``disable_hooks_for_plugins`` (``[tool.ductwork]`` or ``settings.py``).
    """
    manager = create_hook_manager()
    module = _settings_module(settings)
    disabled = set(settings.disable_hooks_for_plugins)
    try:
        if module is not None:
            disabled.update(getattr(module, "DISABLE_HOOKS_FOR_PLUGINS", ()))
            for plugin in getattr(module, "HOOKS", ()):
                register_hooks(manager, plugin, f"{module.__file__} HOOKS")
        for spec in settings.hooks:
            source = f"{settings.source} [tool.ductwork] hooks '{spec}'"
            register_hooks(manager, _import_hooks(spec, source), source)
        for spec in _split(options.hooks):
            register_hooks(manager, _import_hooks(spec, f"--hooks {spec}"), f"--hooks {spec}")
        for name in register_entry_point_hooks(manager, disabled):
            _logger.info("Registered the hooks of plugin %s.", name)
    except pluggy.PluginValidationError as error:
        raise ProjectConfigError(str(error)) from error
    return manager

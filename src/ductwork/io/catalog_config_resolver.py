"""Resolve catalog configuration: credentials, dataset factory patterns and runtime defaults.

A catalog's configuration has three kinds of entry, looked up in this order for a name:

1. explicit entries (``companies: {type: pandas.CSVDataset, ...}``);
2. factory patterns (``"{name}_csv": {type: pandas.CSVDataset, filepath: "data/{name}.csv"}``),
   the most specific first, then the user's catch-all pattern (one placeholder and no literal
   text, e.g. ``"{default}"``), if any;
3. the runtime default the catalog class supplies (a memory dataset) for everything else.

Credentials referred to by name (``credentials: db``) are replaced by their values here, so a
dataset receives them; the values are never logged or put in a message.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from ductwork.exceptions import CredentialsNotFoundError, DatasetConfigError
from ductwork.io._config import TYPE_KEY, config_error
from ductwork.io._patterns import Pattern, fill_placeholders, is_pattern
from ductwork.io._redact import CREDENTIALS_KEY

_logger = logging.getLogger(__name__)

Patterns = dict[str, dict[str, Any]]

_MEMORY_DEFAULT: Patterns = {"{default}": {"type": "ductwork.io.MemoryDataset"}}


def _resolve_credentials(
    name: str, entry: Mapping[str, Any], credentials: Mapping[str, Any]
) -> dict[str, Any]:
    """Return ``entry`` with each ``credentials: <name>`` reference replaced by its value."""
    resolved: dict[str, Any] = {}
    for key, value in entry.items():
        if key == CREDENTIALS_KEY and isinstance(value, str):
            if value not in credentials:
                raise CredentialsNotFoundError(
                    f"Unable to find credentials '{value}' for dataset '{name}': check your data "
                    "catalog and credentials configuration."
                )
            resolved[key] = credentials[value]
        elif isinstance(value, Mapping):
            resolved[key] = _resolve_credentials(name, value, credentials)
        else:
            resolved[key] = value
    return resolved


def _check_entry(name: Any, entry: Any) -> None:
    if not isinstance(name, str):
        raise DatasetConfigError(f"Dataset {name!r}: catalog names must be strings.")
    if not isinstance(entry, Mapping):
        raise DatasetConfigError(
            f"Catalog entry '{name}' is not a valid dataset configuration. \nHint: If this "
            "catalog entry is intended for variable interpolation, make sure that the key is "
            f"preceded by an underscore. (A dataset entry is a mapping with a 'type' key; got "
            f"{type(entry).__name__}.)"
        )
    if TYPE_KEY not in entry:
        raise config_error(
            name,
            "'type' is missing from dataset catalog configuration: name the dataset class, "
            "e.g. 'type: pickle.PickleDataset'.",
        )


def _compile(patterns: Mapping[str, dict[str, Any]]) -> dict[str, tuple[Pattern, dict[str, Any]]]:
    compiled = [(Pattern(text), config) for text, config in patterns.items()]
    compiled.sort(key=lambda item: item[0].sort_key())
    return {pattern.text: (pattern, config) for pattern, config in compiled}


def _plain_catch_all_type(patterns: Mapping[str, tuple[Pattern, dict[str, Any]]]) -> str | None:
    """The ``type`` of ``patterns`` when they are one catch-all entry with nothing but a type
    (the catalogs' own runtime defaults), else ``None``."""
    if len(patterns) != 1:
        return None
    [(pattern, config)] = patterns.values()
    type_value = config.get(TYPE_KEY)
    if pattern.matches_any_name and len(config) == 1 and isinstance(type_value, str):
        return type_value
    return None


class CatalogConfigResolver:
    """Holds a catalog's configuration and turns dataset names into dataset configurations.

    Args:
        config: Catalog entries by name; names containing ``{`` are factory patterns. Names that
            start with ``_`` are skipped (YAML anchors).
        credentials: Credentials by name, referred to from entries as ``credentials: <name>``.
        default_runtime_patterns: The patterns used for names nothing else matches; without
            them, a warning is issued and undeclared names become ``MemoryDataset``.

    Raises:
        DatasetConfigError: An entry is not a mapping, has no ``type``, refers to unknown
            credentials, or more than one catch-all pattern is given.
    """

    def __init__(
        self,
        config: Mapping[str, Any] | None = None,
        credentials: Mapping[str, Any] | None = None,
        default_runtime_patterns: Patterns | None = None,
    ) -> None:
        if default_runtime_patterns is None:
            _logger.warning(
                "Since runtime patterns are not provided, setting the runtime pattern to "
                "default value: %s (undeclared datasets become MemoryDataset).",
                _MEMORY_DEFAULT,
            )
            default_runtime_patterns = _MEMORY_DEFAULT
        self._runtime_patterns = _compile(default_runtime_patterns)
        self._runtime_default_type = _plain_catch_all_type(self._runtime_patterns)
        self._resolved_configs: dict[str, dict[str, Any]] = {}
        patterns: Patterns = {}
        for name, entry in (config or {}).items():
            if isinstance(name, str) and name.startswith("_"):
                continue
            _check_entry(name, entry)
            resolved = _resolve_credentials(name, entry, credentials or {})
            (patterns if is_pattern(name) else self._resolved_configs)[name] = resolved
        compiled = _compile(patterns)
        catch_alls = [text for text, (pattern, _) in compiled.items() if pattern.specificity == 0]
        if len(catch_alls) > 1:
            raise DatasetConfigError(
                f"Multiple catch-all patterns found in the catalog: {', '.join(catch_alls)}. "
                "Keep at most one pattern without literal text."
            )
        self._user_catch_all = {text: compiled.pop(text) for text in catch_alls}
        self._dataset_patterns = compiled

    # --- inspection -------------------------------------------------------------------------------

    @property
    def config(self) -> dict[str, dict[str, Any]]:
        """The explicit (non-pattern) entries, credentials resolved. The catalog edits it."""
        return self._resolved_configs

    @staticmethod
    def is_pattern(name: str) -> bool:
        """Return whether ``name`` is a factory pattern (it contains ``{``)."""
        return is_pattern(name)

    def list_patterns(self) -> list[str]:
        """Return factory patterns (most specific first), the catch-all, then runtime patterns."""
        return [*self._dataset_patterns, *self._user_catch_all, *self._runtime_patterns]

    @staticmethod
    def _first_match(
        name: str, patterns: Mapping[str, tuple[Pattern, dict[str, Any]]]
    ) -> str | None:
        for text, (pattern, _) in patterns.items():
            if pattern.matches(name):
                return text
        return None

    def match_dataset_pattern(self, ds_name: str) -> str | None:
        """Return the first factory pattern (not the catch-all) matching ``ds_name``."""
        return self._first_match(ds_name, self._dataset_patterns)

    def match_user_catch_all_pattern(self, ds_name: str) -> str | None:
        """Return the user's catch-all pattern if it matches ``ds_name``."""
        return self._first_match(ds_name, self._user_catch_all)

    def match_runtime_pattern(self, ds_name: str) -> str | None:
        """Return the runtime pattern matching ``ds_name``."""
        return self._first_match(ds_name, self._runtime_patterns)

    def plain_runtime_type(self, ds_name: str) -> str | None:
        """The ``type`` of the runtime pattern for ``ds_name`` when it has no other key.

        Such an entry needs no placeholder filling and no argument checks: the catalog creates
        the dataset by calling the class, which a run does for every undeclared dataset.
        """
        if self._runtime_default_type is not None and ds_name:
            return self._runtime_default_type  # no need to match: the pattern takes any ds_name
        text = self.match_runtime_pattern(ds_name)
        if text is None:
            return None
        config = self._runtime_patterns[text][1]
        type_value = config.get("type")
        return type_value if isinstance(type_value, str) and len(config) == 1 else None

    def match_pattern(self, ds_name: str) -> str | None:
        """Return the user pattern (factory or catch-all) matching ``ds_name``, if any."""
        if not self._dataset_patterns and not self._user_catch_all:
            return None  # most catalogs in code: asked for every dataset of every run
        return self.match_dataset_pattern(ds_name) or self.match_user_catch_all_pattern(ds_name)

    # --- resolution -------------------------------------------------------------------------------

    def resolve_pattern(self, ds_name: str) -> dict[str, Any]:
        """Return the configuration for ``ds_name``: its explicit entry or the best pattern's.

        Placeholders in the pattern's configuration are filled with the parts of ``ds_name``.

        Raises:
            DatasetConfigError: The pattern's configuration uses an unknown placeholder.
        """
        if ds_name in self._resolved_configs:
            return copy.deepcopy(self._resolved_configs[ds_name])
        for group in (self._dataset_patterns, self._user_catch_all, self._runtime_patterns):
            text = self._first_match(ds_name, group)
            if text is None:
                continue
            if group is self._user_catch_all:
                _logger.warning(
                    "Dataset '%s' is created from the catch-all pattern '%s' instead of the "
                    "runtime default.",
                    ds_name,
                    text,
                )
            pattern, config = group[text]
            values = pattern.match(ds_name) or {}
            return dict(fill_placeholders(copy.deepcopy(config), values, ds_name, text))
        return {}

    def subset(self, names: Iterable[str]) -> CatalogConfigResolver:
        """Return a resolver with the same patterns and only the explicit entries in ``names``."""
        clone = copy.copy(self)
        wanted = set(names)
        clone._resolved_configs = {
            name: config for name, config in self._resolved_configs.items() if name in wanted
        }
        return clone

    def pattern_configs(self) -> Patterns:
        """Return the user's patterns (factory and catch-all) with their configurations."""
        return {
            text: copy.deepcopy(config)
            for text, (_, config) in {**self._dataset_patterns, **self._user_catch_all}.items()
        }

    @staticmethod
    def unresolve_credentials(
        cred_name: str, ds_config: Mapping[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Move credential values out of a configuration, leaving references to them.

        Args:
            cred_name: Prefix of the generated credential names (usually the dataset name).
            ds_config: A configuration with credentials resolved.

        Returns:
            The configuration with each ``credentials`` value replaced by a name, and the
            credentials by those names.
        """
        credentials: dict[str, Any] = {}

        def walk(config: Mapping[str, Any], prefix: str) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for key, value in config.items():
                if key == CREDENTIALS_KEY and value and not isinstance(value, str):
                    # The first credentials are `<name>_credentials` (as Kedro names them);
                    # any further ones are named by their place in the entry.
                    reference = f"{cred_name}_{CREDENTIALS_KEY}"
                    if credentials:
                        reference = f"{prefix}_{CREDENTIALS_KEY}"
                    credentials[reference] = value
                    out[key] = reference
                elif isinstance(value, Mapping):
                    out[key] = walk(value, f"{prefix}_{key}")
                else:
                    out[key] = value
            return out

        return walk(ds_config, cred_name), credentials

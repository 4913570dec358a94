"""Turn one catalog entry (a dict, usually from YAML) into a dataset object.

Configuration is data, often from a file someone else wrote, so this module instantiates only
dataset classes: a ``type:`` that names a function (``os.system``), a builtin (``builtins.eval``)
or any class without ``load``/``save`` is refused before anything is called. Every error names the
catalog entry and the key at fault, and never quotes a credential.
"""

from __future__ import annotations

import difflib
import functools
import importlib
import inspect
import re
from collections.abc import Mapping
from typing import Any

from ductwork.exceptions import DatasetConfigError, DatasetError
from ductwork.io._redact import raise_scrubbed
from ductwork.io._version import Version, check_version

TYPE_KEY = "type"
VERSIONED_KEY = "versioned"
VERSION_KEY = "version"

# Short names are looked up under these packages first, so `pickle.PickleDataset` is ours and
# not an attribute of the standard library's `pickle`. The empty prefix accepts full paths.
TYPE_PREFIXES = ("ductwork.io.", "ductwork.datasets.", "")

# Catalog files written for Kedro name its classes; ductwork's namesakes are tried first.
_KEDRO_ALIASES = {"kedro.io.": "ductwork.io.", "kedro_datasets.": "ductwork.datasets."}

_DOTTED_NAME = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")


def class_path(cls: type) -> str:
    """Return ``module.QualName`` for a class."""
    return f"{cls.__module__}.{cls.__qualname__}"


def _config_error(name: str, message: str) -> DatasetConfigError:
    return DatasetConfigError(f"Dataset '{name}': {message}")


def _import_candidate(candidate: str, name: str, shown: str) -> Any:
    """Import ``module.attr`` and return the attribute, or ``None`` if that path does not exist."""
    module_name, _, attr = candidate.rpartition(".")
    if not module_name:
        return None
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        missing = err.name or ""
        if module_name == missing or module_name.startswith(missing + "."):
            return None  # this prefix does not lead anywhere; try the next one
        raise _config_error(
            name, f"key 'type': {shown!r} needs the module '{missing}', which is not installed."
        ) from err
    except Exception as err:
        raise _config_error(
            name, f"key 'type': importing '{module_name}' for {shown!r} failed: {err}"
        ) from err
    return getattr(module, attr, None)


def _import_type(path: str, name: str) -> Any:
    if not _DOTTED_NAME.fullmatch(path):
        raise _config_error(name, f"key 'type': {path!r} is not a class name or dotted path.")
    # A path into ductwork itself is already complete: do not import other packages to look.
    prefixes = ("",) if path.startswith("ductwork.") else TYPE_PREFIXES
    candidates = [prefix + path for prefix in prefixes]
    for kedro, ours in _KEDRO_ALIASES.items():
        if path.startswith(kedro):
            candidates.insert(0, ours + path.removeprefix(kedro))
    for candidate in candidates:
        found = _import_candidate(candidate, name, path)
        if found is not None:
            return found
    tried = ", ".join(repr(candidate) for candidate in candidates if "." in candidate)
    raise _config_error(name, f"key 'type': cannot find the class {path!r} (tried {tried}).")


def _describe_kind(obj: Any) -> str:
    if inspect.isbuiltin(obj):
        return "a builtin function"
    if inspect.isroutine(obj):
        return "a function"
    if inspect.ismodule(obj):
        return "a module"
    return f"a '{type(obj).__name__}' object"


def check_dataset_class(obj: Any, name: str, shown: str) -> type:
    """Return ``obj`` if it is a concrete dataset class, else raise naming the entry.

    A dataset class is a subclass of ``AbstractDataset`` or any class with callable ``load`` and
    ``save`` attributes (datasets of other libraries are accepted by shape).
    """
    hint = "Only dataset classes (with 'load' and 'save' methods) can be configured."
    if not inspect.isclass(obj):
        raise _config_error(name, f"key 'type': {shown!r} is {_describe_kind(obj)}. {hint}")
    if not (callable(getattr(obj, "load", None)) and callable(getattr(obj, "save", None))):
        raise _config_error(name, f"key 'type': {shown!r} is not a dataset class. {hint}")
    if inspect.isabstract(obj):
        missing = ", ".join(sorted(getattr(obj, "__abstractmethods__", ())))
        raise _config_error(
            name, f"key 'type': {shown!r} is abstract (it does not implement {missing})."
        )
    return obj


# Resolved type strings. Resolving imports modules and searches several prefixes, which costs
# far more than building a dataset; a run that creates thousands of runtime datasets of one type
# must pay for it once. Only successes are kept, so an error always names its own entry.
_RESOLVED_TYPES: dict[str, type] = {}


def resolve_dataset_type(type_value: Any, name: str = "<unnamed>") -> type:
    """Resolve a ``type:`` value (a class, a short name or a dotted path) to a dataset class.

    Raises:
        DatasetConfigError: The value does not lead to a dataset class.
    """
    if isinstance(type_value, type):
        return check_dataset_class(type_value, name, class_path(type_value))
    if not isinstance(type_value, str):
        raise _config_error(
            name, f"key 'type' must be a class path string, got {type(type_value).__name__}."
        )
    resolved = _RESOLVED_TYPES.get(type_value)
    if resolved is None:
        resolved = check_dataset_class(_import_type(type_value, name), name, type_value)
        _RESOLVED_TYPES[type_value] = resolved
    return resolved


@functools.lru_cache(maxsize=512)
def _parameters(cls: type) -> Mapping[str, inspect.Parameter] | None:
    """A class's constructor parameters, or None when Python cannot tell (cached per class)."""
    try:
        return inspect.signature(cls).parameters
    except (TypeError, ValueError):
        return None


def _accepts(cls: type, argument: str) -> bool:
    parameters = _parameters(cls)
    if parameters is None:
        return True  # cannot tell; let the call decide
    return argument in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()
    )


def parse_dataset_definition(
    config: Mapping[str, Any],
    load_version: str | None = None,
    save_version: str | None = None,
    name: str = "<unnamed>",
) -> tuple[type, dict[str, Any]]:
    """Split a catalog entry into the dataset class and its constructor arguments.

    ``versioned: true`` becomes a ``version=Version(load_version, save_version)`` argument.

    Raises:
        DatasetConfigError: Naming the entry and the key at fault.
    """
    if not isinstance(config, Mapping):
        raise _config_error(name, f"the entry must be a mapping, got {type(config).__name__}.")
    kwargs = dict(config)
    if TYPE_KEY not in kwargs:
        raise _config_error(
            name,
            "key 'type' is missing: name the dataset class, e.g. 'type: pickle.PickleDataset'.",
        )
    class_obj = resolve_dataset_type(kwargs.pop(TYPE_KEY), name)
    versioned = kwargs.pop(VERSIONED_KEY, False)
    if not isinstance(versioned, bool):
        raise _config_error(name, "key 'versioned' must be true or false.")
    if VERSION_KEY in kwargs:
        raise _config_error(
            name,
            "key 'version' is reserved: write 'versioned: true' and choose versions with the "
            "catalog's 'load_versions' and 'save_version'.",
        )
    if versioned:
        if not _accepts(class_obj, VERSION_KEY):
            raise _config_error(
                name, f"key 'versioned': {class_path(class_obj)} does not support versioning."
            )
        version = Version(load_version, save_version)
        try:
            check_version(version)
        except DatasetError as err:
            raise _config_error(name, str(err)) from err
        kwargs[VERSION_KEY] = version
    return class_obj, kwargs


def _check_arguments(cls: type, kwargs: Mapping[str, Any], name: str) -> None:
    """Name unknown and missing keys before calling the constructor."""
    parameters = _parameters(cls)
    if parameters is None:
        return
    kinds = inspect.Parameter
    if any(p.kind is kinds.VAR_KEYWORD for p in parameters.values()):
        return
    accepted = [
        p.name
        for p in parameters.values()
        if p.kind in (kinds.POSITIONAL_OR_KEYWORD, kinds.KEYWORD_ONLY)
    ]
    unknown = sorted(key for key in kwargs if key not in accepted)
    if unknown:
        close = difflib.get_close_matches(unknown[0], accepted, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        keys = ", ".join(repr(key) for key in unknown)
        raise _config_error(
            name,
            f"unexpected key {keys} for {class_path(cls)}, which accepts: "
            f"{', '.join(a for a in accepted if a != VERSION_KEY)}.{hint}",
        )
    missing = [
        p.name
        for p in parameters.values()
        if p.name in accepted and p.default is p.empty and p.name not in kwargs
    ]
    if missing:
        keys = ", ".join(repr(key) for key in missing)
        raise _config_error(name, f"missing required key {keys} for {class_path(cls)}.")


def build_dataset(
    name: str,
    config: Mapping[str, Any],
    load_version: str | None = None,
    save_version: str | None = None,
) -> Any:
    """Create the dataset described by one catalog entry.

    Args:
        name: The catalog entry's name, used in every error message.
        config: The entry: ``type`` plus the constructor's arguments.
        load_version: Version to load if the entry is ``versioned``.
        save_version: Version to save if the entry is ``versioned``.

    Returns:
        The dataset object.

    Raises:
        DatasetConfigError: The entry is invalid or the constructor failed; the message names the
            entry and never quotes a credential.
    """
    class_obj, kwargs = parse_dataset_definition(config, load_version, save_version, name)
    _check_arguments(class_obj, kwargs, name)
    try:
        return class_obj(**kwargs)
    except Exception as err:
        prefix = f"Dataset '{name}': creating {class_path(class_obj)} failed: "
        raise_scrubbed(DatasetConfigError, prefix, err, kwargs)

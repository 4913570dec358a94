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
import importlib.util
import inspect
import logging
import re
import warnings
from collections.abc import Mapping
from typing import Any

from ductwork.exceptions import DatasetConfigError, DatasetError
from ductwork.io._redact import raise_scrubbed
from ductwork.io._static_check import unbound_names
from ductwork.io._version import Version, check_version

_logger = logging.getLogger(__name__)

TYPE_KEY = "type"
VERSIONED_KEY = "versioned"
VERSION_KEY = "version"

# Where a short type name (``pickle.PickleDataset``, ``MemoryDataset``) is looked up, in order:
# ductwork's own classes first, then kedro-datasets' (when it is installed), then the name as a
# full path. ductwork first also keeps ``pickle.PickleDataset`` from meaning the standard
# library's ``pickle`` module.
TYPE_PREFIXES = ("ductwork.io.", "ductwork.datasets.", "kedro_datasets.", "")
_KEDRO_DATASETS = "kedro_datasets."

# Modules a dataset class may need that are installed under another name.
_PACKAGE_OF_MODULE = {"yaml": "PyYAML", "PIL": "Pillow", "sklearn": "scikit-learn"}

_DOTTED_NAME = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")


def class_path(cls: type) -> str:
    """Return ``module.QualName`` for a class."""
    return f"{cls.__module__}.{cls.__qualname__}"


def config_error(name: str, message: str) -> DatasetConfigError:
    """The error for a catalog entry that cannot be parsed, framed as Kedro frames it."""
    return DatasetConfigError(
        f"An exception occurred when parsing config for dataset '{name}':\n{message}"
    )


def _install_hint(module: str, shown: str) -> str:
    """What to install for ``module``, which the type ``shown`` needs."""
    top = module.split(".", 1)[0]
    if top == "kedro_datasets":
        group, _, cls = shown.removeprefix(_KEDRO_DATASETS).rpartition(".")
        extra = f"{group.split('.', 1)[0]}-{cls.lower()}" if group else ""
        return f"pip install 'kedro-datasets[{extra}]'" if extra else "pip install kedro-datasets"
    return f"pip install {_PACKAGE_OF_MODULE.get(top, top)}"


class _Lookup:
    """The outcome of trying the candidate paths of one ``type:`` value, for its error."""

    def __init__(self) -> None:
        self.missing_class: tuple[str, str] | None = None  # (class, module): the first seen
        self.missing_module: str | None = None  # the full path's missing module
        self.refused: list[str] = []  # candidates refused from their source, not imported


def _import_candidate(candidate: str, name: str, shown: str, lookup: _Lookup) -> Any:
    """Import ``module.attr`` and return the attribute, or ``None`` if that path does not exist.

    A module whose source plainly lacks the class is not imported at all (its top-level code
    never runs); why is added to ``lookup.refused``.
    """
    module_name, _, attr = candidate.rpartition(".")
    if not module_name:
        return None
    reason = unbound_names(module_name, [attr], want_class=True)
    if reason is not None:
        lookup.refused.append(reason)
        return None
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        missing = err.name or ""
        if module_name == missing or module_name.startswith(missing + "."):
            if candidate == shown:
                lookup.missing_module = missing
            return None  # this prefix does not lead anywhere; try the next one
        raise config_error(
            name,
            f"The type {shown!r} needs the module '{missing}', which is not installed: "
            f"{_install_hint(missing, shown)}.",
        ) from err
    except Exception as err:
        raise config_error(name, f"Importing '{module_name}' for {shown!r} failed: {err}") from err
    found = getattr(module, attr, None)
    if found is None and lookup.missing_class is None:
        lookup.missing_class = (attr, module_name)
    return found


def _candidates(path: str) -> list[str]:
    """The full paths to try for ``path``, most wanted first.

    A full path into ductwork or kedro-datasets is taken as written (``kedro.io.X`` is
    ductwork's namesake of Kedro's core, ``ductwork.io.X``). Where kedro-datasets is not installed,
    a ``kedro_datasets.`` path falls back to ductwork's class of the same name, if there is one.
    """
    if path.startswith("ductwork."):
        return [path]
    if path.startswith("kedro.io."):
        return ["ductwork.io." + path.removeprefix("kedro.io."), path]
    if path.startswith(_KEDRO_DATASETS):
        if _kedro_datasets_installed():
            return [path]
        return [path, "ductwork.datasets." + path.removeprefix(_KEDRO_DATASETS)]
    return [prefix + path for prefix in TYPE_PREFIXES]


def _not_found(path: str, name: str, candidates: list[str], lookup: _Lookup) -> Exception:
    tried = ", ".join(repr(candidate) for candidate in candidates if "." in candidate)
    if "." not in path:
        return config_error(
            name,
            f"Empty module name. Invalid dataset path: {path!r}. Please check if it's correct: "
            f"there is no dataset class of that name (tried {tried}); give the class's full "
            "path, e.g. 'my_package.datasets.MyDataset'.",
        )
    if lookup.missing_class:
        attr, module = lookup.missing_class
        found = f"Dataset '{attr}' not found in '{module}'. Make sure the dataset name is correct"
    elif lookup.missing_module:
        found = f"No module named '{lookup.missing_module}'"
    else:
        found = f"Class {path!r} not found"
    message = f"{found} (tried {tried})."
    if lookup.refused:
        message += f" Not imported, from their source: {'; '.join(lookup.refused)}."
    if not path.startswith(("ductwork.", "kedro.io.")) and not _kedro_datasets_installed():
        message += (
            " kedro-datasets, which may have this dataset, is not installed: "
            f"{_install_hint('kedro_datasets', path)}."
        )
    elif lookup.missing_module and not lookup.missing_class:
        message += " Install the package that provides it, or correct the path."
    return config_error(name, message)


def _kedro_datasets_installed() -> bool:
    return importlib.util.find_spec("kedro_datasets") is not None


def _import_type(path: str, name: str) -> Any:
    if path != path.strip("."):
        raise config_error(
            name,
            f"'type' class path does not support relative paths or paths ending with a dot: "
            f"{path!r}.",
        )
    if not _DOTTED_NAME.fullmatch(path):
        raise config_error(name, f"'type' {path!r} is not a class name or dotted path.")
    if path.endswith("Set"):
        warnings.warn(
            f"Since kedro-datasets 2.0, 'Dataset' is spelled with a lowercase 's'. Got "
            f"'{path}' (dataset '{name}').",
            UserWarning,
            stacklevel=2,
        )
    candidates = _candidates(path)
    lookup = _Lookup()
    for candidate in candidates:
        found = _import_candidate(candidate, name, path, lookup)
        if found is not None:
            return found
    raise _not_found(path, name, candidates, lookup)


def _describe_kind(obj: Any) -> str:
    if inspect.isbuiltin(obj):
        return "a builtin function"
    if inspect.isroutine(obj):
        return "a function"
    if inspect.ismodule(obj):
        return "a module"
    return f"a '{type(obj).__name__}' object"


def _loads_without_arguments(cls: Any) -> bool:
    """Whether ``cls().load()`` is callable with no argument (a catalog's ``load(name)`` is not)."""
    try:
        parameters = list(inspect.signature(cls.load).parameters.values())[1:]
    except (TypeError, ValueError):
        return True  # cannot tell; let the call decide
    return all(
        p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in parameters
    )


def check_dataset_class(obj: Any, name: str, shown: str) -> type:
    """Return ``obj`` if it is a concrete dataset class, else raise naming the entry.

    A dataset class is a subclass of ``AbstractDataset`` or any class with callable ``load()``
    and ``save(data)`` methods (datasets of other libraries are accepted by shape).
    """
    hint = (
        "All dataset types must extend 'AbstractDataset' or have 'load()' and 'save(data)' methods."
    )
    if not inspect.isclass(obj):
        raise config_error(name, f"The type {shown!r} is {_describe_kind(obj)}. {hint}")
    if not (
        callable(getattr(obj, "load", None))
        and callable(getattr(obj, "save", None))
        and _loads_without_arguments(obj)
    ):
        raise config_error(
            name,
            f"Dataset type '{class_path(obj)}' is invalid: all dataset types must extend "
            "'AbstractDataset' (or have 'load()' and 'save(data)' methods).",
        )
    if inspect.isabstract(obj):
        missing = ", ".join(sorted(getattr(obj, "__abstractmethods__", ())))
        raise config_error(
            name, f"The type {shown!r} is abstract (it does not implement {missing})."
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
        raise config_error(
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
        raise config_error(name, f"the entry must be a mapping, got {type(config).__name__}.")
    kwargs = dict(config)
    if TYPE_KEY not in kwargs:
        raise config_error(
            name,
            "'type' is missing from dataset catalog configuration: name the dataset class, "
            "e.g. 'type: pickle.PickleDataset'.",
        )
    class_obj = resolve_dataset_type(kwargs.pop(TYPE_KEY), name)
    versioned = kwargs.pop(VERSIONED_KEY, False)
    if not isinstance(versioned, bool):
        raise config_error(name, "key 'versioned' must be true or false.")
    if VERSION_KEY in kwargs:
        # Versions come from the catalog (load_versions, save_version), never from an entry.
        del kwargs[VERSION_KEY]
        _logger.warning(
            "Dataset '%s': 'version' attribute removed from dataset configuration since it is a "
            "reserved word and cannot be directly specified. Write 'versioned: true' and choose "
            "versions with the catalog's 'load_versions' and 'save_version'.",
            name,
        )
    # A class may declare itself always versioned (`versioned = True`), as Kedro allows.
    versioned = versioned or getattr(class_obj, VERSIONED_KEY, False) is True
    if versioned:
        if not _accepts(class_obj, VERSION_KEY):
            raise config_error(
                name, f"'versioned': {class_path(class_obj)} does not support versioning."
            )
        version = Version(load_version, save_version)
        try:
            check_version(version)
        except DatasetError as err:
            raise config_error(name, str(err)) from err
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
        raise DatasetConfigError(
            f"Dataset '{name}' must only contain arguments valid for the constructor of "
            f"'{class_path(cls)}': unexpected key {keys}; it accepts: "
            f"{', '.join(a for a in accepted if a != VERSION_KEY)}.{hint}"
        )
    missing = [
        p.name
        for p in parameters.values()
        if p.name in accepted and p.default is p.empty and p.name not in kwargs
    ]
    if missing:
        keys = ", ".join(repr(key) for key in missing)
        raise DatasetConfigError(
            f"Dataset '{name}' lacks arguments the constructor of '{class_path(cls)}' "
            f"requires: missing required key {keys}."
        )


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
        prefix = f"Failed to instantiate dataset '{name}' of type '{class_path(class_obj)}': "
        raise_scrubbed(DatasetConfigError, prefix, err, kwargs)

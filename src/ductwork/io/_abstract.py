"""The dataset base class: one contract for loading, saving and describing data.

A subclass writes plain ``load``/``save`` methods (or the older ``_load``/``_save``); the base
class wraps them when the subclass is created, so every dataset, ours or a user's, rejects
``None`` on save and reports failures as a :class:`DatasetError` naming the dataset. Wrapping at
class creation (rather than in a template method) keeps Kedro's subclassing style working
unchanged.
"""

from __future__ import annotations

import abc
import copy
import functools
import inspect
import logging
import pprint
import sys
from collections.abc import Callable
from typing import Any, ClassVar, Generic, NoReturn, TypeVar

from ductwork.exceptions import DatasetError
from ductwork.io._config import VERSION_KEY, VERSIONED_KEY, build_dataset
from ductwork.io._redact import raise_scrubbed, redact_config

_logger = logging.getLogger(__name__)

_DI = TypeVar("_DI")
_DO = TypeVar("_DO")

_WRAPPED = "__ductwork_wrapped__"
# Keys whose values a repr never shows, whatever a subclass's _describe returns.


def _mark(func: Callable[..., Any]) -> Callable[..., Any]:
    setattr(func, _WRAPPED, True)
    return func


def _needs_wrapping(func: Any) -> bool:
    return (
        func is not None
        and not getattr(func, _WRAPPED, False)
        and not getattr(func, "__isabstractmethod__", False)
    )


def _record_init_args(init: Callable[..., None]) -> Callable[..., None]:
    """Wrap ``__init__`` so the instance remembers the arguments it was created with."""
    signature = inspect.signature(init)

    @functools.wraps(init)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        if not type(self)._RECORD_INIT_ARGS:
            return
        try:
            bound = signature.bind(self, *args, **kwargs)
        except TypeError:
            return
        recorded = dict(bound.arguments)
        recorded.pop(next(iter(signature.parameters)), None)  # `self`
        for parameter in signature.parameters.values():
            if parameter.kind is inspect.Parameter.VAR_KEYWORD:
                recorded.update(recorded.pop(parameter.name, {}))
        # The outermost __init__ finishes last, so the most derived class's arguments win.
        self._init_args = recorded

    return __init__


def _install_wrapper(
    cls: type, public: str, legacy: str, wrapper: Callable[[Any], Callable[..., Any]]
) -> None:
    """Wrap the class's own ``public`` method, or its legacy ``legacy`` one, as ``public``."""
    own = cls.__dict__.get(public)
    if own is None and _needs_wrapping(cls.__dict__.get(legacy)):
        own = cls.__dict__[legacy]
    if _needs_wrapping(own):
        setattr(cls, public, _mark(wrapper(own)))


class AbstractDataset(abc.ABC, Generic[_DI, _DO]):
    """Base class of datasets: subclasses implement ``load``, ``save`` and ``_describe``.

    Optional hooks are ``_exists`` (for :meth:`exists`) and ``_release`` (for :meth:`release`).
    ``load``/``save`` defined by a subclass are wrapped so that errors become
    :class:`DatasetError` naming the dataset and ``None`` cannot be saved. Legacy ``_load`` and
    ``_save`` methods are accepted in their place.

    Attributes:
        _EPHEMERAL: True for datasets whose data lives only in the current run (memory).
            Runners treat such datasets as never "existing" between runs.
    """

    _EPHEMERAL: bool = False
    # Whether instances keep their constructor arguments in `_init_args` (for `to_config`).
    # Memory datasets opt out: their argument is the data itself.
    _RECORD_INIT_ARGS: ClassVar[bool] = True
    _init_args: dict[str, Any]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is not None and not getattr(init, _WRAPPED, False):
            cls.__init__ = _mark(_record_init_args(init))  # type: ignore[method-assign]
        _install_wrapper(cls, "load", "_load", cls._load_wrapper)
        _install_wrapper(cls, "save", "_save", cls._save_wrapper)

    @classmethod
    def from_config(
        cls,
        name: str,
        config: dict[str, Any],
        load_version: str | None = None,
        save_version: str | None = None,
    ) -> Any:
        """Create a dataset from a catalog entry (``type`` plus constructor arguments).

        Args:
            name: The entry's name, used in error messages.
            config: The entry. ``type`` is a class, a short name (``pickle.PickleDataset``), a
                bare class name or a full dotted path; only dataset classes are accepted.
            load_version: Version to load when the entry says ``versioned: true``.
            save_version: Version to save when the entry says ``versioned: true``.

        Raises:
            DatasetConfigError: The entry is invalid; the message names it and the bad key.
        """
        return build_dataset(name, config, load_version, save_version)

    # --- the contract -----------------------------------------------------------------------------

    @abc.abstractmethod
    def load(self) -> _DO:
        """Load and return the data."""

    @abc.abstractmethod
    def save(self, data: _DI) -> None:
        """Save ``data``."""

    @abc.abstractmethod
    def _describe(self) -> dict[str, Any]:
        """Return the arguments that identify this dataset, for its repr (no credentials)."""

    def _exists(self) -> bool:
        _logger.warning(
            "'exists()' not implemented for '%s'. Assuming output does not exist.",
            type(self).__name__,
        )
        return False

    def _release(self) -> None:
        """Free what the dataset holds; nothing by default."""

    # --- wrappers ---------------------------------------------------------------------------------

    def _fail(self, message: str, err: Exception) -> NoReturn:
        """Raise a DatasetError for ``err`` without leaking this dataset's credentials."""
        raise_scrubbed(DatasetError, f"{message}\n", err, getattr(self, "_init_args", {}))

    @classmethod
    def _load_wrapper(cls, load_func: Callable[[Any], Any]) -> Callable[[Any], Any]:
        """Return ``load_func`` wrapped with logging and error translation."""

        @functools.wraps(load_func)
        def load(self: AbstractDataset[Any, Any]) -> Any:
            if _logger.isEnabledFor(logging.DEBUG):  # a call less on every load of a run
                _logger.debug("Loading %s", self)
            try:
                return load_func(self)
            except DatasetError:
                raise
            except Exception as err:
                self._fail(f"Failed while loading data from dataset {self}.", err)

        return load

    @classmethod
    def _save_wrapper(cls, save_func: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
        """Return ``save_func`` wrapped with the ``None`` check and error translation."""

        @functools.wraps(save_func)
        def save(self: AbstractDataset[Any, Any], data: Any) -> None:
            if data is None:
                raise DatasetError("Saving 'None' to a 'Dataset' is not allowed")
            if _logger.isEnabledFor(logging.DEBUG):
                _logger.debug("Saving %s", self)
            try:
                save_func(self, data)
            except DatasetError:
                raise
            except Exception as err:
                self._fail(f"Failed while saving data to dataset {self}.", err)

        return save

    def exists(self) -> bool:
        """Return whether the data exists (calls ``_exists``).

        Raises:
            DatasetError: The check itself failed.
        """
        _logger.debug("Checking whether target of %s exists", self)
        try:
            return bool(self._exists())
        except DatasetError:
            raise
        except Exception as err:
            self._fail(f"Failed during exists check for dataset {self}.", err)

    def release(self) -> None:
        """Release what the dataset holds in memory (calls ``_release``).

        Raises:
            DatasetError: Releasing failed.
        """
        if _logger.isEnabledFor(logging.DEBUG):
            _logger.debug("Releasing %s", self)
        try:
            self._release()
        except DatasetError:
            raise
        except Exception as err:
            self._fail(f"Failed during release for dataset {self}.", err)

    # --- description and copies -------------------------------------------------------------------

    def __repr__(self) -> str:
        # The class's name, not its qualified name: a class defined in a function shows as
        # `module.Name`, as in Kedro, rather than `module.function.<locals>.Name`.
        prefix = f"{type(self).__module__}.{type(self).__name__}"
        try:
            description = self._describe()
        except Exception:  # a repr must never raise
            description = None
        if not isinstance(description, dict) or not all(isinstance(k, str) for k in description):
            _logger.warning(
                "'%s' is a subclass of AbstractDataset and it must implement the '_describe' "
                "method following the signature of AbstractDataset's '_describe'. It returns a "
                "dict with string keys.",
                prefix,
            )
            return f"{prefix}()"
        parts = []
        for key, value in redact_config(description).items():
            if value is None:
                continue
            shown = value
            text = pprint.pformat(shown, depth=2, width=sys.maxsize, sort_dicts=False)
            parts.append(f"{key}={text}")
        return f"{prefix}({', '.join(parts)})"

    def __str__(self) -> str:
        return repr(self)

    def _init_config(self) -> dict[str, Any]:
        """Return a catalog entry that recreates this dataset (used by ``to_config``)."""
        arguments = dict(getattr(self, "_init_args", {}))
        version = arguments.pop(VERSION_KEY, None)
        config: dict[str, Any] = {"type": f"{type(self).__module__}.{type(self).__qualname__}"}
        config.update(arguments)
        if version is not None:
            config[VERSIONED_KEY] = True
        return config

    def _copy(self, **overrides: Any) -> AbstractDataset[_DI, _DO]:
        """Return a shallow copy with some attributes replaced (e.g. ``_version``)."""
        clone = copy.copy(self)
        for name, value in overrides.items():
            setattr(clone, name, value)
        return clone

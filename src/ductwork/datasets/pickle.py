"""``PickleDataset``: any Python object, pickled to a file."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import IO, Any

from ductwork.datasets._file import FileDataset
from ductwork.io._static_check import unbound_names
from ductwork.io._version import Version


def _backend_module(backend: str) -> ModuleType:
    """Import the pickling module ``backend`` and check it has ``load`` and ``dump``.

    A module whose source plainly lacks them is refused without being imported.
    """
    reason = unbound_names(backend, ["load", "dump"], want_class=False)
    if reason is not None:
        raise ValueError(
            f"PickleDataset backend {backend!r} is refused without importing it: {reason}; "
            "use 'pickle', 'cloudpickle', 'joblib', 'dill' or similar."
        )
    try:
        module = importlib.import_module(backend)
    except ImportError as err:
        raise ImportError(
            f"PickleDataset backend {backend!r} cannot be imported: install it, or use "
            "'pickle', 'cloudpickle' or another module with load() and dump()."
        ) from err
    if not (callable(getattr(module, "load", None)) and callable(getattr(module, "dump", None))):
        raise ValueError(
            f"PickleDataset backend {backend!r} has no load() and dump() functions; "
            "use 'pickle', 'cloudpickle', 'joblib', 'dill' or similar."
        )
    return module


class PickleDataset(FileDataset[Any, Any]):
    """Saves any object with a pickling module (``pickle`` by default) and loads it back.

    Args:
        filepath: Local path or fsspec URL of the file.
        backend: Module with ``load(file, **load_args)`` and ``dump(obj, file, **save_args)``:
            ``pickle``, ``cloudpickle``, ``joblib``, ``dill``...
        load_args: Passed to ``backend.load``.
        save_args: Passed to ``backend.dump``.
        version: Versions to load and save (``versioned: true`` in a catalog).
        credentials: Filesystem credentials.
        fs_args: Filesystem and file-opening arguments.
        metadata: Free-form information for plugins.

    Raises:
        ImportError: The backend is not installed.
        ValueError: The backend has no ``load``/``dump``.

    Example:
        >>> PickleDataset(filepath="data/model.pkl")  # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        filepath: str,
        backend: str = "pickle",
        load_args: dict[str, Any] | None = None,
        save_args: dict[str, Any] | None = None,
        version: Version | None = None,
        credentials: dict[str, Any] | None = None,
        fs_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        _backend_module(backend)  # fail at configuration time, not at the first save
        self._backend = backend  # the name, not the module: a module cannot be pickled
        super().__init__(
            filepath=filepath,
            load_args=load_args,
            save_args=save_args,
            version=version,
            credentials=credentials,
            fs_args=fs_args,
            metadata=metadata,
        )

    def _read(self, stream: IO[Any]) -> Any:
        return _backend_module(self._backend).load(stream, **self._load_args)

    def _write(self, stream: IO[Any], data: Any) -> None:
        _backend_module(self._backend).dump(data, stream, **self._save_args)

    def _describe(self) -> dict[str, Any]:
        return {**super()._describe(), "backend": self._backend}

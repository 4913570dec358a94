"""``YAMLDataset``: plain data (dicts, lists, scalars) in a YAML file."""

from __future__ import annotations

from typing import IO, Any, ClassVar

import yaml

from ductwork.datasets._file import FileDataset
from ductwork.io._version import Version
from ductwork.io.safe_yaml import load_yaml


class YAMLDataset(FileDataset[Any, Any]):
    """Saves plain data as YAML and loads it with ductwork's limited safe loader.

    Saving uses the safe dumper too, so what is saved can always be loaded back: an object YAML
    cannot represent without Python-specific tags is refused at save time.

    Args:
        filepath: Local path or fsspec URL of the file.
        save_args: Passed to ``yaml.safe_dump`` (default ``{"default_flow_style": False}``).
        version: Versions to load and save (``versioned: true`` in a catalog).
        credentials: Filesystem credentials.
        fs_args: Filesystem and file-opening arguments.
        metadata: Free-form information for plugins.
    """

    _BINARY = False
    DEFAULT_SAVE_ARGS: ClassVar[dict[str, Any]] = {"default_flow_style": False}

    def __init__(
        self,
        *,
        filepath: str,
        save_args: dict[str, Any] | None = None,
        version: Version | None = None,
        credentials: dict[str, Any] | None = None,
        fs_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(
            filepath=filepath,
            save_args=save_args,
            version=version,
            credentials=credentials,
            fs_args=fs_args,
            metadata=metadata,
        )

    def _read(self, stream: IO[Any]) -> Any:
        return load_yaml(stream, source=self._path_str(self._get_load_path()))

    def _write(self, stream: IO[Any], data: Any) -> None:
        yaml.safe_dump(data, stream, **self._save_args)

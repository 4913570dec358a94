"""File datasets over fsspec paths: local files by default, any fsspec protocol when installed.

Every local save is atomic: a crash leaves the previous file or none, never a partial one.
Datasets that need optional packages live in subpackages (``ductwork.datasets.pandas``), so
importing this package imports none of them.
"""

from __future__ import annotations

from ductwork.datasets.json import JSONDataset
from ductwork.datasets.pickle import PickleDataset
from ductwork.datasets.text import TextDataset
from ductwork.datasets.yaml import YAMLDataset

__all__ = ["JSONDataset", "PickleDataset", "TextDataset", "YAMLDataset"]

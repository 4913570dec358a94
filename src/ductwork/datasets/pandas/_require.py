"""Import pandas with a message that says which extra to install."""

from __future__ import annotations

import importlib
from types import ModuleType


def import_pandas() -> ModuleType:
    """Return the pandas module.

    Raises:
        ModuleNotFoundError: pandas is not installed (``name`` is ``"pandas"``).
    """
    try:
        return importlib.import_module("pandas")
    except ModuleNotFoundError as err:
        raise ModuleNotFoundError(
            "ductwork.datasets.pandas needs pandas: pip install 'ductwork[pandas]'",
            name="pandas",
        ) from err

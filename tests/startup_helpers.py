"""A node function for ``test_startup.py``, importable by worker processes."""

from __future__ import annotations

import sys
from typing import Any


def loaded_modules(_x: Any) -> list[str]:
    """The modules imported in the process running the node."""
    return sorted(sys.modules)

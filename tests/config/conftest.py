"""Configuration folders written from a mapping of relative path to text."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

Write = Callable[[dict[str, str]], Path]


@pytest.fixture
def conf(tmp_path: Path) -> Write:
    """Write ``{"base/catalog.yml": "...", ...}`` under ``tmp_path/conf``; return the folder."""

    def write(files: dict[str, str]) -> Path:
        root = tmp_path / "conf"
        (root / "base").mkdir(parents=True, exist_ok=True)
        for relative, text in files.items():
            path = root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        return root

    return write

"""A small project on disk whose modules can be edited and imported again, in this process."""

from __future__ import annotations

import importlib
import shutil
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest


class Project:
    """Files under ``root`` (on ``sys.path``), imported fresh after every change."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._modules: set[str] = set()

    def write(self, relative: str, text: str) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
        return path

    def edit(self, relative: str, old: str, new: str) -> None:
        path = self.root / relative
        text = path.read_text()
        assert old in text, f"{old!r} not in {relative}"
        path.write_text(text.replace(old, new))

    def load(self, module: str) -> ModuleType:
        """Import ``module`` afresh (and forget every module of the project first)."""
        for name in list(sys.modules):
            top = name.partition(".")[0]
            if top in self._tops():
                del sys.modules[name]
        for cache in self.root.rglob("__pycache__"):
            shutil.rmtree(cache)
        importlib.invalidate_caches()
        return importlib.import_module(module)

    def _tops(self) -> set[str]:
        return {
            path.stem if path.is_file() else path.name
            for path in self.root.iterdir()
            if path.suffix == ".py" or (path.is_dir() and not path.name.endswith("-info"))
        }

    def forget(self) -> None:
        for name in list(sys.modules):
            if name.partition(".")[0] in self._tops():
                del sys.modules[name]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    root = tmp_path / "project"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    made = Project(root)
    yield made
    made.forget()

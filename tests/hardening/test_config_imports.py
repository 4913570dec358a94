"""Finding 9: a catalog's ``type:`` or a ``backend:`` that leads nowhere is refused before the
module it names is imported (so its top-level code never runs)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ductwork.exceptions import DatasetConfigError
from ductwork.io import DataCatalog
from tests.cli.conftest import run_cli

SIDE_EFFECT = """\
from pathlib import Path
Path(__file__).with_name("{marker}").write_text("top-level code ran")
"""


def _module(folder: Path, name: str, body: str = "") -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    marker = f"ran-{name.replace('/', '-')}"
    path.write_text(SIDE_EFFECT.format(marker=marker) + body)
    return path.with_name(marker)


@pytest.fixture
def importable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in [n for n in sys.modules if n.startswith(("hostile", "fine_"))]:
        del sys.modules[name]


def _build(entry: dict[str, object]) -> None:
    DataCatalog.from_config({"x": {"filepath": "x.pkl", **entry}})["x"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "module 'hostile_a' does not define 'Thing'"),
        ("def Thing(**kwargs):\n    return kwargs\n", "'hostile_a.Thing' is a function"),
    ],
)
def test_a_type_the_module_does_not_define_as_a_class_is_refused_unimported(
    importable: Path, body: str, message: str
) -> None:
    marker = _module(importable, "hostile_a.py", body)
    with pytest.raises(DatasetConfigError, match="Not imported, from their source") as caught:
        _build({"type": "hostile_a.Thing"})
    assert message in str(caught.value)
    assert not marker.exists()
    assert "hostile_a" not in sys.modules


def test_packages_on_the_way_are_not_imported_either(importable: Path) -> None:
    package_marker = _module(importable, "hostile_pkg/__init__.py")
    module_marker = _module(importable, "hostile_pkg/sub.py")
    with pytest.raises(DatasetConfigError, match="does not define 'Missing'"):
        _build({"type": "hostile_pkg.sub.Missing"})
    assert not package_marker.exists()
    assert not module_marker.exists()


def test_a_backend_without_load_and_dump_is_refused_unimported(importable: Path) -> None:
    marker = _module(importable, "hostile_backend.py", "def load(f):\n    return None\n")
    with pytest.raises(DatasetConfigError, match="does not define 'dump'"):
        _build({"type": "PickleDataset", "backend": "hostile_backend"})
    assert not marker.exists()


def test_a_module_that_does_define_the_class_is_imported_and_used(importable: Path) -> None:
    marker = _module(
        importable,
        "fine_datasets.py",
        "from ductwork.datasets import PickleDataset\n\nclass Mine(PickleDataset):\n    pass\n",
    )
    _build({"type": "fine_datasets.Mine"})
    assert marker.exists()


def test_names_bound_by_imports_are_left_to_the_import(importable: Path) -> None:
    _module(importable, "fine_reexport.py", "from ductwork.datasets import PickleDataset as P\n")
    _build({"type": "fine_reexport.P"})


def test_the_command_refuses_such_a_type_and_never_imports_it(project: Path) -> None:
    marker = _module(project, "hostile_cli.py")
    (project / "catalog.yml").write_text("raw: {type: hostile_cli.Thing, filepath: x.pkl}\n")
    result = run_cli(
        project, "run", "proj:pipeline", "--catalog", "catalog.yml", "--params", "params.yml"
    )
    assert result.returncode != 0
    assert "does not define 'Thing'" in result.stderr
    assert not marker.exists()

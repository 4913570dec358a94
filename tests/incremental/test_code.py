"""Code fingerprints: what a node's function depends on, and nothing it does not."""

from __future__ import annotations

import functools
import socket
from typing import Any

from ductwork.incremental.code import Fingerprinter, not_cacheable
from tests.incremental.conftest import Project


def digest(func: Any) -> dict[str, str]:
    result = Fingerprinter().fingerprint(func)
    assert result.unsound == []
    return {entry.id: entry.digest for entry in result.entries}


def test_comments_and_formatting_do_not_count(project: Project) -> None:
    project.write("m.py", "def f(x):\n    return x+1\n")
    before = digest(project.load("m").f)
    project.write("m.py", "# a comment\n\n\ndef f(x):\n    # why\n    return (x +\n        1)\n")
    assert digest(project.load("m").f) == before


def test_the_body_counts(project: Project) -> None:
    project.write("m.py", "def f(x):\n    return x + 1\n")
    before = digest(project.load("m").f)
    project.edit("m.py", "x + 1", "x + 2")
    assert digest(project.load("m").f) != before


def test_helpers_in_other_modules_are_followed(project: Project) -> None:
    project.write("pkg/__init__.py", "")
    project.write("pkg/utils.py", "def normalise(x):\n    return x.lower()\n")
    project.write(
        "pkg/nodes.py",
        "from pkg import utils\nfrom pkg.utils import normalise as n\n"
        "def clean(x):\n    return utils.normalise(x)\n"
        "def clean2(x):\n    return n(x)\n",
    )
    module = project.load("pkg.nodes")
    labels = [entry.label for entry in Fingerprinter().fingerprint(module.clean).entries]
    assert "helper normalise() in project/pkg/utils.py" in labels
    before = (digest(module.clean), digest(module.clean2))
    project.edit("pkg/utils.py", "lower", "upper")
    module = project.load("pkg.nodes")
    after = (digest(module.clean), digest(module.clean2))
    assert after[0] != before[0]
    assert after[1] != before[1]


def test_closures_defaults_and_partials_count() -> None:
    def make(factor: int) -> Any:
        def scale(x: int, offset: int = 0) -> int:
            return x * factor + offset

        return scale

    assert digest(make(2)) != digest(make(3))
    scale = make(2)
    assert digest(functools.partial(scale, offset=1)) != digest(functools.partial(scale, offset=2))
    other = make(2)
    other.__defaults__ = (5,)
    assert digest(other) != digest(scale)


def test_unhashable_globals_make_the_function_unsound(project: Project) -> None:
    project.write("m.py", "import socket\nCONN = socket.socket()\ndef f():\n    return CONN\n")
    module = project.load("m")
    try:
        result = Fingerprinter().fingerprint(module.f)
        assert result.unsound
        assert "global CONN" in result.unsound[0]
    finally:
        module.CONN.close()
    assert socket  # the module is used by the project above


def test_not_cacheable_is_recorded() -> None:
    @not_cacheable
    def sample() -> int:
        return 4

    assert Fingerprinter().fingerprint(sample).cacheable is False


def test_builtins_differ_by_identity() -> None:
    assert digest(len) != digest(sum)


def test_packages_count_by_version(project: Project) -> None:
    project.write("fakepkg/__init__.py", "def helper(x):\n    return x\n")
    info = project.write("fakepkg-1.0.dist-info/METADATA", "Name: fakepkg\nVersion: 1.0\n")
    project.write("m.py", "import fakepkg\ndef f(x):\n    return fakepkg.helper(x)\n")
    entries = Fingerprinter().fingerprint(project.load("m").f).entries
    assert ("package fakepkg", "1.0") in [(e.id, e.shown) for e in entries]
    info.write_text("Name: fakepkg\nVersion: 2.0\n")
    entries = Fingerprinter().fingerprint(project.load("m").f).entries
    assert ("package fakepkg", "2.0") in [(e.id, e.shown) for e in entries]


def test_a_package_callable_object_counts_by_the_package_version(project: Project) -> None:
    project.write("m.py", "from numpy import mean\ndef f(x):\n    return mean(x)\n")
    result = Fingerprinter().fingerprint(project.load("m").f)
    assert result.unsound == []
    assert "package numpy" in [entry.id for entry in result.entries]


def test_a_package_object_holding_project_code_is_not_taken_for_the_package(
    project: Project,
) -> None:
    project.write(
        "m.py",
        "import numpy as np\ndef g(v):\n    return v + 1\nVEC = np.vectorize(g)\n"
        "def f(x):\n    return VEC(x)\n",
    )
    result = Fingerprinter().fingerprint(project.load("m").f)
    assert result.unsound  # never a version-only description of g

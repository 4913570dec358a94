"""Kedro-shaped projects: ``[tool.kedro]``, the ``src/`` layout, ``find_pipelines()``, and
``ductwork new`` then ``ductwork run``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.conftest import journals, run_cli

NODES = """\
from ductwork.pipeline import Pipeline, node


def {name}(value):
    return value + {step}


def create_pipeline():
    return Pipeline([node({name}, "{source}", "{target}", name="{name}")])
"""
FILES = {
    "pyproject.toml": (
        '[tool.kedro]\npackage_name = "spaceship"\nproject_name = "Spaceship"\n'
        'kedro_init_version = "1.1.0"\n'
    ),
    "src/spaceship/__init__.py": "",
    "src/spaceship/pipeline_registry.py": (
        "from ductwork.pipeline import Pipeline\n"
        "from ductwork.project import find_pipelines\n\n\n"
        "def register_pipelines():\n"
        "    pipelines = find_pipelines()\n"
        '    pipelines["__default__"] = sum(pipelines.values(), Pipeline([]))\n'
        "    return pipelines\n"
    ),
    "src/spaceship/pipelines/__init__.py": "",
    "src/spaceship/pipelines/first/__init__.py": "",
    "src/spaceship/pipelines/first/pipeline.py": NODES.format(
        name="first", step=1, source="params:start", target="middle"
    ),
    "src/spaceship/pipelines/second/__init__.py": "",
    "src/spaceship/pipelines/second/pipeline.py": NODES.format(
        name="second", step=10, source="middle", target="end"
    ),
    "src/spaceship/pipelines/_private/pipeline.py": "raise RuntimeError('never imported')\n",
    "src/spaceship/pipelines/helpers/__init__.py": "",  # no pipeline.py: not a pipeline
    "conf/base/parameters.yml": "start: 5\n",
    "conf/base/catalog.yml": "end: {type: JSONDataset, filepath: '${globals:out}/end.json'}\n",
    "conf/base/globals.yml": "out: data/08_reporting\n",
    "conf/local/.gitkeep": "",
}


@pytest.fixture
def kedro_project(tmp_path: Path) -> Path:
    for relative, text in FILES.items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_a_kedro_project_without_kedro_imports_runs_from_a_subfolder(kedro_project: Path) -> None:
    inner = kedro_project / "src" / "spaceship"
    result = run_cli(inner, "run")
    assert result.returncode == 0, result.stderr
    assert (kedro_project / "data/08_reporting/end.json").read_text().strip() == "16"
    assert "spaceship.pipeline_registry:register_pipelines" in result.stderr
    one = run_cli(kedro_project, "run", "--pipeline", "first", "--params", "start=1")
    assert one.returncode == 0, one.stderr
    assert [entry["name"] for entry in journals(kedro_project)[-1]["nodes"]] == ["first"]


def test_a_broken_pipeline_module_is_an_error_not_a_smaller_run(kedro_project: Path) -> None:
    (kedro_project / "src/spaceship/pipelines/second/pipeline.py").write_text(
        "from ductwork.pipeline import Pipeline\n\nraise ImportError('typo in a node module')\n"
    )
    result = run_cli(kedro_project, "run")
    assert result.returncode == 2
    assert "spaceship.pipelines.second.pipeline" in result.stderr
    assert "typo in a node module" in result.stderr
    assert not (kedro_project / "data").exists()


@pytest.mark.skipif(
    __import__("importlib").util.find_spec("kedro") is not None, reason="Kedro is installed"
)
@pytest.mark.parametrize(
    ("relative", "text"),
    [
        (
            "src/spaceship/pipelines/first/pipeline.py",
            "from kedro.pipeline import Pipeline, node\n",
        ),
        ("src/spaceship/settings.py", "from kedro.framework.hooks import hook_impl\nHOOKS = ()\n"),
    ],
)
def test_a_kedro_project_that_imports_kedro_points_at_the_kedro_runners(
    kedro_project: Path, relative: str, text: str
) -> None:
    (kedro_project / relative).write_text(text)
    result = run_cli(kedro_project, "run")
    assert result.returncode == 2
    assert "Kedro is not installed" in result.stderr
    assert "kedro run --runner=ductwork.kedro.ParallelRunner" in result.stderr
    assert "change `kedro` to `ductwork` in its imports" in result.stderr
    assert "Traceback" not in result.stderr


def test_find_pipelines_can_warn_instead(kedro_project: Path) -> None:
    (kedro_project / "src/spaceship/pipelines/second/pipeline.py").write_text("x = 1\n")
    code = (
        "import warnings, sys\n"
        f"sys.path.insert(0, {str(kedro_project / 'src')!r})\n"
        "from ductwork.project import find_pipelines\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    found = find_pipelines(raise_errors=False, package='spaceship')\n"
        "print(sorted(found), [str(w.message) for w in caught])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.startswith("['first'] [")
    assert "has no create_pipeline()" in result.stdout


def test_ductwork_new_then_run_then_its_tests(tmp_path: Path) -> None:
    created = run_cli(tmp_path, "new", "Rocket Lab")
    assert created.returncode == 0, created.stderr
    project = tmp_path / "Rocket Lab"
    assert (project / "conf/base/catalog.yml").is_file()
    assert (project / "conf/local/credentials.yml").is_file()
    result = run_cli(project, "run")
    assert result.returncode == 0, result.stderr
    assert "succeeded: 3 nodes done" in result.stderr
    report = (project / "data/08_reporting/report.txt").read_text()
    assert report == "10 numbers, total 135, mean 13.5"
    again = run_cli(project, "run", "--params", "numbers.count=2")
    assert again.returncode == 0, again.stderr
    assert (project / "data/08_reporting/report.txt").read_text().startswith("2 numbers")
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "3 passed" in tests.stdout


@pytest.mark.parametrize(("name", "said"), [("class", "Cannot make"), ("9lives", "digit")])
def test_ductwork_new_refuses_bad_names(tmp_path: Path, name: str, said: str) -> None:
    result = run_cli(tmp_path, "new", name)
    assert result.returncode == 2
    assert said in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_ductwork_new_never_overwrites(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "mine.txt").write_text("keep")
    result = run_cli(tmp_path, "new", "taken")
    assert result.returncode == 2
    assert "not empty" in result.stderr
    assert sorted(p.name for p in (tmp_path / "taken").iterdir()) == ["mine.txt"]

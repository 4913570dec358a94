"""``ductwork new NAME``: write a small project that ``ductwork run`` runs at once, offline.

The project has the layout the README describes: ``conf/base`` and ``conf/local``, globals,
parameters, a ``src/`` package with a pipeline registry that finds ``pipelines/*/pipeline.py``,
one pipeline, and its tests. It needs nothing but ductwork.
"""

from __future__ import annotations

import keyword
import re
from pathlib import Path

from ductwork.exceptions import ProjectConfigError

__all__ = ["package_name_for", "write_project"]

_FILES: dict[str, str] = {
    "pyproject.toml": """\
[project]
name = "{name}"
version = "0.1.0"
requires-python = ">=3.10"
dependencies = ["ductwork[cli]"]

# `ductwork run` anywhere in this folder reads these settings.
[tool.ductwork]
package_name = "{package}"
source_dir = "src"
# hooks = ["{package}.hooks:ProjectHooks"]

[tool.pytest.ini_options]
pythonpath = ["src"]
testpaths = ["tests"]
""",
    "README.md": """\
# {name}

```bash
ductwork run                         # conf/base, then conf/local
ductwork run --params numbers.count=20
ductwork run --env prod              # conf/base, then conf/prod (create it first)
python -m pytest                     # the pipeline's tests
```

Configuration lives in `conf/`: `base` is shared, `local` is yours (keep credentials there,
out of version control). Pipelines live in `src/{package}/pipelines/<name>/pipeline.py`.
""",
    ".gitignore": """\
data/
.ductwork/
conf/local/credentials*.yml
__pycache__/
""",
    "conf/base/globals.yml": """\
# Read anywhere as ${{globals:key}}.
folders:
  raw: data/01_raw
  reporting: data/08_reporting
""",
    "conf/base/catalog.yml": """\
# Datasets not listed here live in memory for the run.
numbers:
  type: JSONDataset
  filepath: ${{globals:folders.raw}}/numbers.json

summary:
  type: JSONDataset
  filepath: ${{globals:folders.reporting}}/summary.json

report:
  type: TextDataset
  filepath: ${{globals:folders.reporting}}/report.txt
""",
    "conf/base/parameters.yml": """\
# A node reads `params:numbers` (this mapping) or `params:numbers.count` (one value).
numbers:
  count: 10
  step: 3

summary:
  round_to: 2
""",
    "conf/local/credentials.yml": """\
# Credentials by name; a catalog entry refers to one with `credentials: <name>`.
# Environment variables may be read here only: password: ${{oc.env:DB_PASSWORD}}
""",
    "src/{package}/__init__.py": '"""The {name} project."""\n',
    "src/{package}/pipeline_registry.py": '''\
"""The project's pipelines: `ductwork run --pipeline NAME`; the default runs them all."""

from __future__ import annotations

from ductwork.pipeline import Pipeline
from ductwork.project import find_pipelines


def register_pipelines() -> dict[str, Pipeline]:
    """Every pipeline of src/{package}/pipelines/, and `__default__` for all of them."""
    pipelines = find_pipelines()
    pipelines["__default__"] = sum(pipelines.values(), Pipeline([]))
    return pipelines
''',
    "src/{package}/pipelines/__init__.py": "",
    "src/{package}/pipelines/numbers/__init__.py": '"""Make numbers and summarise them."""\n',
    "src/{package}/pipelines/numbers/nodes.py": '''\
"""The nodes: plain functions, each tested on its own."""

from __future__ import annotations

from typing import Any


def make_numbers(options: dict[str, Any]) -> list[int]:
    """`count` numbers, `step` apart."""
    return [i * int(options["step"]) for i in range(int(options["count"]))]


def summarise(numbers: list[int], round_to: int) -> dict[str, float]:
    """Count, total and mean."""
    mean = sum(numbers) / len(numbers) if numbers else 0.0
    return {{"count": len(numbers), "total": sum(numbers), "mean": round(mean, round_to)}}


def write_report(summary: dict[str, float]) -> str:
    """One line a person reads."""
    return f"{{summary['count']}} numbers, total {{summary['total']}}, mean {{summary['mean']}}"
''',
    "src/{package}/pipelines/numbers/pipeline.py": '''\
"""The numbers pipeline; find_pipelines() finds it by this file's name."""

from __future__ import annotations

from ductwork.pipeline import Pipeline, node

from {package}.pipelines.numbers.nodes import make_numbers, summarise, write_report


def create_pipeline() -> Pipeline:
    return Pipeline(
        [
            node(make_numbers, "params:numbers", "numbers", name="make_numbers"),
            node(summarise, ["numbers", "params:summary.round_to"], "summary", name="summarise"),
            node(write_report, "summary", "report", name="write_report"),
        ]
    )
''',
    "tests/test_numbers.py": '''\
"""The numbers pipeline: its nodes, and the whole pipeline on an in-memory catalog."""

from __future__ import annotations

from ductwork.io import DataCatalog
from ductwork.runner import SequentialRunner

from {package}.pipelines.numbers.nodes import make_numbers, summarise
from {package}.pipelines.numbers.pipeline import create_pipeline


def test_make_numbers() -> None:
    assert make_numbers({{"count": 3, "step": 2}}) == [0, 2, 4]


def test_summarise_an_empty_list() -> None:
    assert summarise([], 2) == {{"count": 0, "total": 0, "mean": 0.0}}


def test_the_pipeline_end_to_end() -> None:
    catalog = DataCatalog()
    catalog["params:numbers"] = {{"count": 4, "step": 1}}
    catalog["params:summary.round_to"] = 1
    outputs = SequentialRunner().run(create_pipeline(), catalog)
    assert outputs["report"].load() == "4 numbers, total 6, mean 1.5"
''',
}


def package_name_for(name: str) -> str:
    """The Python package name of a project called ``name`` (``My Project`` -> ``my_project``)."""
    package = re.sub(r"\W+", "_", name.strip().lower()).strip("_")
    if not package or not package.isidentifier() or keyword.iskeyword(package):
        raise ProjectConfigError(
            f"Cannot make a Python package name of {name!r}: use letters, digits and "
            "underscores, starting with a letter."
        )
    if package[0].isdigit():
        raise ProjectConfigError(f"{name!r}: a package name cannot start with a digit.")
    return package


def write_project(name: str, parent: Path) -> Path:
    """Write the project ``name`` in ``parent/<name>``; return its folder.

    Raises:
        ProjectConfigError: The name makes no package name, or the folder exists and is not
            empty (nothing is overwritten).
    """
    package = package_name_for(name)
    folder = parent / name
    if folder.exists() and any(folder.iterdir()):
        raise ProjectConfigError(f"{folder} exists and is not empty; nothing was written.")
    for relative, text in _FILES.items():
        path = folder / relative.format(package=package)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.format(name=name, package=package), encoding="utf-8")
    return folder

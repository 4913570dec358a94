"""``ductwork run`` on a project laid out in ``conf/base`` and ``conf/<env>``, as a user runs it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.cli.conftest import TEMPLATE, calls, journals, run_cli
from tests.cli.secret_dataset import fingerprint

SECRET = "TOPSECRET-7d41d8cd98f0"
BASE_SECRET = "BASESECRET-0f98dc8d14d7"
FILES = {
    "pyproject.toml": '[tool.ductwork]\npipeline = "proj:pipeline"\n',
    "conf/base/globals.yml": "folder: data\n",
    "conf/base/catalog.yml": (
        "raw: {type: PickleDataset, filepath: '${globals:folder}/raw.pkl'}\n"
        "total: {type: PickleDataset, filepath: '${globals:folder}/total.pkl'}\n"
        "summary:\n"
        "  type: proj_secret.SecretTextDataset\n"
        "  filepath: ${globals:folder}/summary.txt\n"
        "  credentials: store\n"
    ),
    "conf/base/parameters.yml": "start: 1\nnested:\n  factor: ${factor}\n",
    "conf/base/parameters_factor.yml": "factor: 3\n",
    "conf/local/parameters.yml": "start: 2\n",
    "conf/base/credentials.yml": f"store:\n  password: {BASE_SECRET}\n",
    "conf/local/credentials.yml": f"store:\n  password: {SECRET}\n",
    "conf/prod/parameters.yml": "start: 5\n",
    "conf/prod/globals.yml": "folder: prod_data\n",
}


@pytest.fixture
def conf_project(tmp_path: Path) -> Path:
    """The command-line test project, configured through ``conf/``."""
    shutil.copy(TEMPLATE, tmp_path / "proj.py")
    shutil.copy(Path(__file__).with_name("secret_dataset.py"), tmp_path / "proj_secret.py")
    for relative, text in FILES.items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def summary(project: Path, folder: str = "data") -> str:
    return (project / folder / "summary.txt").read_text().split("\n")[0]


# (arguments, the summary: raw = start + 1, total = 3 * raw, printed total = total * factor)
RUNS = [
    ([], "total=27 start=2"),  # base, then local: start 2, factor 3 from another file
    (["--env", "base"], "total=18 start=1"),
    (["--params", "start=10"], "total=99 start=10"),  # runtime params override parameters
    (["--params", "nested.factor=1,start=0"], "total=3 start=0"),
    (["--params", "factor=2"], "total=18 start=2"),  # ${factor} sees the runtime value
]


@pytest.mark.parametrize(("args", "expected"), RUNS)
def test_environments_interpolation_and_runtime_params(
    conf_project: Path, args: list[str], expected: str
) -> None:
    result = run_cli(conf_project, "run", *args)
    assert result.returncode == 0, result.stderr
    assert summary(conf_project) == expected


def test_another_environment_and_its_globals(conf_project: Path) -> None:
    result = run_cli(conf_project, "run", "--env", "prod")
    assert result.returncode == 0, result.stderr
    assert summary(conf_project, "prod_data") == "total=54 start=5"
    assert not (conf_project / "data").exists()
    assert journals(conf_project)[-1]["options"]["env"] == "prod"


def test_environment_from_the_environment_variable(
    conf_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DUCTWORK_ENV", "prod")
    assert run_cli(conf_project, "run").returncode == 0
    assert summary(conf_project, "prod_data") == "total=54 start=5"


def test_an_unknown_environment_is_an_error(conf_project: Path) -> None:
    result = run_cli(conf_project, "run", "--env", "prdo")
    assert result.returncode == 2
    assert "--env prdo" in result.stderr
    assert "base, local, prod" in result.stderr


# (file, text appended to it, the key and the reference the error must name)
UNRESOLVED = [
    (
        "conf/base/catalog.yml",
        "x: {type: PickleDataset, filepath: '${globals:nowhere}/x.pkl'}\n",
        "x.filepath",
        "${globals:nowhere}",
    ),
    ("conf/local/parameters.yml", "min: ${min_hp}\n", "min", "${min_hp}"),
    (
        "conf/base/parameters_more.yml",
        "later: ${runtime_params:day}\n",
        "later",
        "${runtime_params:day}",
    ),
]


@pytest.mark.parametrize(("relative", "text", "key", "reference"), UNRESOLVED)
def test_an_unresolved_reference_stops_before_anything_runs_or_is_written(
    conf_project: Path, relative: str, text: str, key: str, reference: str
) -> None:
    path = conf_project / relative
    path.write_text((path.read_text() if path.exists() else "") + text)
    result = run_cli(conf_project, "run")
    assert result.returncode == 2, result.stderr
    assert f"{path}: key '{key}': cannot resolve {reference}" in result.stderr
    assert "Nothing was run" in result.stderr
    assert calls(conf_project) == []
    assert not (conf_project / "data").exists()
    assert journals(conf_project) == []


def test_duplicate_keys_in_one_environment_name_both_files(conf_project: Path) -> None:
    (conf_project / "conf/base/parameters_again.yml").write_text("start: 4\n")
    result = run_cli(conf_project, "run")
    assert result.returncode == 2
    assert "Duplicate key 'start'" in result.stderr
    assert str(conf_project / "conf/base/parameters.yml") in result.stderr
    assert str(conf_project / "conf/base/parameters_again.yml") in result.stderr
    assert calls(conf_project) == []


def test_credentials_reach_the_dataset_by_name_and_appear_in_no_output(conf_project: Path) -> None:
    result = run_cli(conf_project, "run", "-vv")
    assert result.returncode == 0, result.stderr
    written = (conf_project / "data/summary.txt").read_text()
    assert f"auth={fingerprint(SECRET)}" in written
    report = run_cli(conf_project, "report")
    assert report.returncode == 0, report.stderr
    dry = run_cli(conf_project, "run", "--dry-run", "-vv")
    (conf_project / "fail_add").write_text("")
    failed = run_cli(conf_project, "run", "-vv")
    assert failed.returncode == 1
    outputs = [result.stdout, result.stderr, report.stdout, report.stderr]
    outputs += [dry.stdout, dry.stderr, failed.stdout, failed.stderr]
    for produced in (conf_project / ".ductwork").rglob("*"):
        if produced.is_file():
            outputs.append(produced.read_text(errors="replace"))
    assert len(outputs) > 9  # journals and the report were read
    assert all(SECRET not in text and BASE_SECRET not in text for text in outputs)


def test_a_missing_credential_is_named(conf_project: Path) -> None:
    (conf_project / "conf/local/credentials.yml").write_text("other: {password: x}\n")
    (conf_project / "conf/base/credentials.yml").unlink()
    result = run_cli(conf_project, "run")
    assert result.returncode == 2
    assert "credentials 'store'" in result.stderr
    assert "dataset 'summary'" in result.stderr.lower()


def test_a_run_from_a_subfolder_finds_the_project(conf_project: Path) -> None:
    inner = conf_project / "notebooks" / "deep"
    inner.mkdir(parents=True)
    result = run_cli(inner, "run")
    assert result.returncode == 0, result.stderr
    assert summary(conf_project) == "total=27 start=2"
    assert not (inner / "data").exists()
    assert len(journals(conf_project)) == 1
    report = run_cli(inner, "report")
    assert report.returncode == 0, report.stderr


def test_catalog_files_on_the_command_line_replace_the_folder_and_layer(
    conf_project: Path,
) -> None:
    (conf_project / "one.yml").write_text(
        "summary: {type: TextDataset, filepath: '${globals:folder}/one.txt'}\n"
    )
    (conf_project / "two.yml").write_text(
        "summary: {type: TextDataset, filepath: '${globals:folder}/two.txt'}\n"
    )
    result = run_cli(conf_project, "run", "--catalog", "one.yml", "--catalog", "two.yml")
    assert result.returncode == 0, result.stderr
    assert (conf_project / "data/two.txt").read_text() == "total=27 start=2"
    assert not (conf_project / "data/one.txt").exists()
    assert not (conf_project / "data/raw.pkl").exists()  # the folder's catalog is not used


def test_environment_variables_only_in_credentials(
    conf_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROJ_PASSWORD", SECRET)
    (conf_project / "conf/local/credentials.yml").write_text(
        "store: {password: '${oc.env:PROJ_PASSWORD}'}\n"
    )
    result = run_cli(conf_project, "run")
    assert result.returncode == 0, result.stderr
    assert f"auth={fingerprint(SECRET)}" in (conf_project / "data/summary.txt").read_text()
    (conf_project / "conf/local/parameters.yml").write_text("start: ${oc.env:PROJ_PASSWORD}\n")
    refused = run_cli(conf_project, "run")
    assert refused.returncode == 2
    assert "only credentials files may" in refused.stderr
    assert SECRET not in refused.stderr

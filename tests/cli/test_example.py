"""The spaceflights example, end to end, as ``make demo`` runs it (on the runners that exist)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.cli.conftest import run_cli, runner_params

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "spaceflights"
pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def spaceflights(tmp_path: Path) -> Path:
    """A fresh copy of the example project, without data or journals."""
    target = tmp_path / "spaceflights"
    shutil.copytree(
        EXAMPLE, target, ignore=shutil.ignore_patterns("data", ".ductwork", "__pycache__")
    )
    return target


@pytest.mark.parametrize("runner", runner_params("thread", "parallel"))
def test_the_example_runs_end_to_end_and_reports(spaceflights: Path, runner: str) -> None:
    result = run_cli(spaceflights, "run", "--runner", runner)
    assert result.returncode == 0, result.stderr
    assert "succeeded: 13 nodes done" in result.stderr
    summary = (spaceflights / "data/08_reporting/summary.txt").read_text()
    assert summary.startswith("Price model: R^2 0.8")
    metrics = json.loads((spaceflights / "data/08_reporting/metrics.json").read_text())
    assert metrics["r2"] > 0.8
    for produced in ("01_raw/shuttles.csv", "03_primary/model_input_table.parquet"):
        assert (spaceflights / "data" / produced).is_file()
    report = run_cli(spaceflights, "report")
    assert report.returncode == 0, report.stderr
    assert Path(report.stdout.strip().rsplit(": ", 1)[1]).is_file()


def test_the_example_is_deterministic_and_resumable(spaceflights: Path) -> None:
    assert run_cli(spaceflights, "run", "--pipeline", "data_generation").returncode == 0
    first = (spaceflights / "data/01_raw/shuttles.csv").read_bytes()
    (spaceflights / "data/01_raw/shuttles.csv").unlink()
    assert run_cli(spaceflights, "run", "--pipeline", "data_generation").returncode == 0
    assert (spaceflights / "data/01_raw/shuttles.csv").read_bytes() == first
    dry = run_cli(spaceflights, "run", "--only-missing-outputs", "--dry-run")
    assert dry.stdout.splitlines()[0] == (
        "Dry run: 10 of 13 nodes would run, 3 skipped. Nothing was run."
    )


def test_the_example_reads_conf_base_and_local_and_runtime_params(spaceflights: Path) -> None:
    assert (spaceflights / "conf/base/globals.yml").is_file()
    assert (spaceflights / "conf/local/credentials.yml").is_file()
    result = run_cli(
        spaceflights,
        "run",
        "--pipeline",
        "data_generation",
        "--params",
        "data_generation.companies=10",
    )
    assert result.returncode == 0, result.stderr
    companies = (spaceflights / "data/01_raw/companies.csv").read_text().splitlines()
    assert len(companies) == 1 + 10  # the header and ten companies

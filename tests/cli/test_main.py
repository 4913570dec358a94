"""The ``ductwork`` entry point: help, version, and a clear message without the ``cli`` extra."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ductwork import __version__
from tests.cli.conftest import run_cli

pytestmark = pytest.mark.timeout(60)


def test_help_lists_the_commands_and_the_exit_codes(tmp_path: Path) -> None:
    top = run_cli(tmp_path, "--help")
    assert top.returncode == 0
    for name in ("run", "report", "runs"):
        assert name in top.stdout
    run = run_cli(tmp_path, "run", "--help")
    assert "130 interrupted" in run.stdout
    for option in ("--only-missing-outputs", "--from-inputs", "--resume", "--dry-run", "-q"):
        assert option in run.stdout
    assert run_cli(tmp_path, "--version").stdout.strip().endswith(__version__)


def test_the_console_script_is_installed() -> None:
    script = Path(sys.executable).with_name("ductwork")
    assert script.is_file()
    result = subprocess.run(
        [script, "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0


@pytest.mark.parametrize("missing", ["click", "rich"])
def test_without_the_cli_extra_the_message_says_what_to_install(missing: str) -> None:
    code = (
        f"import sys; sys.modules[{missing!r}] = None\n"
        "from ductwork.cli import main\n"
        "main(['--help'])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 2
    assert "pip install 'ductwork[cli]'" in result.stderr

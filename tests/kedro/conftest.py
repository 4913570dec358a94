"""The ductwork.kedro tests run against real Kedro, in the Kedro environments ``make test``
builds (``.venv-kedro-1.1`` and ``.venv-kedro-latest``).

The main ``.venv`` has no Kedro: there this directory is not collected, and the test header
says so (it is not a skip that could pass for a result). ``make test`` sets
``DUCTWORK_KEDRO_TESTS=required``, under which a missing Kedro is an error.
"""

from __future__ import annotations

import importlib.util
import os

import pytest

HAS_KEDRO = importlib.util.find_spec("kedro") is not None
REQUIRED = os.environ.get("DUCTWORK_KEDRO_TESTS") == "required"

if REQUIRED and not HAS_KEDRO:
    raise pytest.UsageError(
        "DUCTWORK_KEDRO_TESTS=required but Kedro is not installed in this environment: "
        "run the ductwork.kedro tests with make pytest-kedro."
    )

collect_ignore_glob = [] if HAS_KEDRO else ["test_*.py", "project/*"]
# The fixture project's own package is not a test module.
collect_ignore = ["project"]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not HAS_KEDRO:
        terminalreporter.write_line(
            "tests/kedro: not collected (no Kedro in this environment); make test runs them in "
            ".venv-kedro-1.1 and .venv-kedro-latest"
        )
        return
    import kedro

    terminalreporter.write_line(f"tests/kedro: ran against Kedro {kedro.__version__}")

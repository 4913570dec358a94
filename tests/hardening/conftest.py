"""The hardening tests reuse the command-line tests' project folder."""

from tests.cli.conftest import project

__all__ = ["project"]

"""The ``ductwork`` command: run a pipeline with a progress display, resume it, report on it.

Needs the ``cli`` extra (``pip install 'ductwork[cli]'``: click and rich). Importing this package
imports neither; :func:`main` does, and says what to install when they are missing.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Sequence

__all__ = ["main"]

USAGE_ERROR = 2


def main(args: Sequence[str] | None = None) -> None:
    """Run the ``ductwork`` command with ``args`` (default: the process's arguments); exits."""
    try:
        from ductwork.cli.app import cli  # noqa: PLC0415 (click and rich only when the command runs)
    except ImportError as error:
        missing = (error.name or "").split(".")[0]
        if missing not in {"click", "rich"}:
            raise
    else:
        # rich is imported only when a command runs; say it is missing before any command does.
        missing = "" if importlib.util.find_spec("rich") is not None else "rich"
    if missing:
        sys.stderr.write(
            f"ductwork: the command line needs {missing}: pip install 'ductwork[cli]'\n"
        )
        raise SystemExit(USAGE_ERROR) from None
    argv = list(args) if args is not None else sys.argv[1:]
    cli.main(args=argv, obj={"argv": argv})

"""The ``kedro run`` command that resumes a failed run, as a user can paste it.

Under ``kedro run`` the command is the one the user typed (same project options, same runner and
runner parameters, same filters, ``--only-missing-outputs`` included), with ``--from-nodes``
set to the nodes to resume from: Kedro intersects its filters, so the typed filters and the new
``--from-nodes`` together select what is left of the failed run. When the run was started some
other way (``KedroSession.run`` in a script), the command names the runner and its options and
says that the pipeline options of the failed run must be added.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["ResumeCommand"]

_FROM_NODES = "--from-nodes"


class ResumeCommand:
    """Builds the resume command for a run of the runner ``runner_path`` with ``params``."""

    def __init__(
        self,
        runner_path: str,
        params: Mapping[str, Any],
        argv: Sequence[str] | None = None,
    ) -> None:
        """Use ``argv`` (``sys.argv`` by default) when it is a ``kedro run`` command."""
        self._runner_path = runner_path
        self._params = dict(params)
        self._argv = list(sys.argv if argv is None else argv)

    @property
    def typed(self) -> list[str] | None:
        """The ``kedro run`` arguments the user typed (after ``run``), or None."""
        argv = self._argv
        if not argv:
            return None
        program = Path(argv[0])
        is_kedro = program.name == "kedro" or (
            program.name == "__main__.py" and program.parent.name == "kedro"
        )
        if not is_kedro or "run" not in argv[1:]:
            return None
        return argv[argv.index("run", 1) + 1 :]

    def is_exact(self) -> bool:
        """Tell whether the command repeats the user's own command line."""
        return self.typed is not None

    def from_nodes(self, names: Sequence[str]) -> str:
        """The command that runs the failed run again from ``names`` and downstream."""
        typed = self.typed
        if typed is None:
            words = ["run", f"--runner={self._runner_path}"]
            params = ",".join(f"{k}={v}" for k, v in self._params.items())
            if params:
                words.append(f"--runner-params={params}")
        else:
            words = ["run", *_without_from_nodes(typed)]
        return shlex.join(["kedro", *words, _FROM_NODES, ",".join(names)])

    def again(self) -> str:
        """The command that repeats the run."""
        typed = self.typed
        if typed is None:
            return self.from_nodes([]).rsplit(f" {_FROM_NODES}", 1)[0]
        return shlex.join(["kedro", "run", *typed])


def _without_from_nodes(words: Sequence[str]) -> list[str]:
    kept: list[str] = []
    skip = False
    for word in words:
        if skip:
            skip = False
            continue
        if word == _FROM_NODES:
            skip = True
            continue
        if word.startswith(f"{_FROM_NODES}="):
            continue
        kept.append(word)
    return kept

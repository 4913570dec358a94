"""``--resume``: finding the run to resume, and the commands printed to resume a run.

The run to resume is the latest one of the same pipeline (same ``PIPELINE`` and ``--pipeline``)
in the journal folder. The printed commands are rebuilt from the options the user gave, so they
work as printed, with or without a ``[tool.ductwork]`` table supplying the rest.
"""

from __future__ import annotations

import os
import shlex
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from ductwork.cli.plan import Filters
from ductwork.exceptions import JournalError
from ductwork.report.journal import journal_paths, load_journal

__all__ = ["CommandLine", "last_run", "still_running"]


@dataclass(frozen=True)
class CommandLine:
    """The options of a ``ductwork run`` that change what it runs, as the user gave them."""

    prog: str
    pipeline: str | None = None
    values: tuple[tuple[str, str], ...] = ()
    flags: tuple[str, ...] = ()
    filters: Filters = field(default_factory=Filters)

    def _words(self, filters: Filters) -> list[str]:
        words = ["run"] + ([self.pipeline] if self.pipeline else [])
        for option, value in self.values:
            words += [option, value]
        words += list(self.flags)
        for key, names in filters.given().items():
            words += [f"--{key.replace('_', '-')}", ",".join(names)]
        return words

    def resume(self) -> str:
        """The command that resumes this run."""
        return f"{self.prog} {shlex.join([*self._words(self.filters), '--resume'])}"

    def from_nodes(self, names: list[str]) -> str:
        """The command that runs from ``names`` (and everything downstream) instead."""
        filters = Filters(**{**self.filters.__dict__, "from_nodes": tuple(names)})
        return f"{self.prog} {shlex.join(self._words(filters))}"


def last_run(directory: Path, spec: str, name: str | None) -> dict[str, Any] | None:
    """The journal of the latest run of pipeline ``spec`` (``name``) in ``directory``.

    Raises:
        JournalError: A journal newer than that run (or than every run, when there is none)
            cannot be read: it may be the very run to resume, so resuming from an older one, or
            saying there is nothing to resume, could be wrong. The message names each such file.
    """
    unreadable: list[str] = []
    for path in journal_paths(directory):
        try:
            journal = load_journal(path)
        except JournalError as error:
            unreadable.append(str(error))
            continue
        if journal.get("pipeline") == spec and journal.get("pipeline_name") == name:
            if unreadable:
                _refuse(directory, unreadable, f"the last readable run of {spec} ({path.name})")
            return journal
    if unreadable:
        _refuse(directory, unreadable, f"any readable run of {spec}")
    return None


def _refuse(directory: Path, unreadable: list[str], what: str) -> NoReturn:
    shown = "\n  ".join(unreadable[:5]) + ("\n  ..." if len(unreadable) > 5 else "")
    raise JournalError(
        f"Cannot resume: {len(unreadable)} journal(s) newer than {what} cannot be read, and one "
        f"of them may be the run to resume:\n  {shown}\nRepair or move them out of {directory}, "
        "then resume again."
    )


def still_running(journal: Mapping[str, Any]) -> bool:
    """Tell whether the run of ``journal`` is still going on this machine (its process lives)."""
    pid = journal.get("pid")
    if journal.get("status") != "running" or journal.get("host") != socket.gethostname():
        return False
    if not isinstance(pid, int) or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

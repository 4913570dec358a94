"""What follows a Kedro run from the calling process: the journal and the progress display."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from typing import Any

from rich.console import Console

from ductwork.cli.progress import LiveProgress, Observers, PlainProgress
from ductwork.report.journal import RunJournal
from ductwork.runner import RunObserver

__all__ = ["live_display", "run_observers"]


def _console() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def live_display() -> bool:
    """Tell whether a run shows the live display (standard error is a terminal)."""
    return _console().is_terminal


@contextmanager
def run_observers(journal: RunJournal | None, total: int, title: str) -> Iterator[RunObserver]:
    """The run's observer, within the journal's and the display's lifetimes.

    On a terminal (standard error), a live display; elsewhere, a log line per node on
    ``ductwork.cli.progress`` (INFO). The journal records how the run ended, then the run's
    exception, if any, goes on.
    """
    console = _console()
    observers: list[RunObserver] = []
    with ExitStack() as stack:
        if journal is not None:
            stack.enter_context(journal)
            observers.append(journal)
        if console.is_terminal:
            live = LiveProgress(console, total, title)
            display: AbstractContextManager[Any] = live
            stack.enter_context(display)
            observers.append(live)
        else:
            observers.append(PlainProgress(total))
        yield Observers(observers)

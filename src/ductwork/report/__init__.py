"""Run journals and run reports.

:class:`RunJournal` records a run as it goes (a :class:`~ductwork.runner.RunObserver` that writes
one JSON file per run); :func:`render_html` and :func:`render_chrome_trace` turn a journal into a
self-contained HTML page or a Chrome/Perfetto trace. Pure Python: no terminal, no network, and
neither click nor rich is imported.
"""

from ductwork.exceptions import JournalError
from ductwork.report.html import render_html
from ductwork.report.journal import (
    DEFAULT_DIRECTORY,
    RunJournal,
    find_journal,
    journal_paths,
    load_journal,
    unfinished_nodes,
)
from ductwork.report.trace import render_chrome_trace

__all__ = [
    "DEFAULT_DIRECTORY",
    "JournalError",
    "RunJournal",
    "find_journal",
    "journal_paths",
    "load_journal",
    "render_chrome_trace",
    "render_html",
    "unfinished_nodes",
]

"""``ductwork report`` and ``ductwork runs``: turn journals into a report, list the runs.

Also the live report: ``ductwork run --serve`` and ``ductwork report --live`` serve the report
of a run on the loopback address while it goes on (:class:`~ductwork.report.live.LiveReport`).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ductwork.exceptions import JournalError

if TYPE_CHECKING:
    from rich.console import Console

# The report and the progress display (rich) load when a command runs, not for ``--help``.

__all__ = ["FORMATS", "list_runs", "live_report", "serve_report", "write_report"]

FORMATS = {"html": ".html", "chrome-trace": ".trace.json"}
# After the run, how long the server waits for a watching page to fetch how the run ended.
LINGER = 10.0
_WATCH_INTERVAL = 0.2


@contextmanager
def live_report(journal_path: Path, serve: bool, console: Console) -> Iterator[None]:
    """For ``ductwork run --serve``: serve the run's report while the block runs."""
    if not serve:
        yield
        return
    from ductwork.report.live import LiveReport  # noqa: PLC0415

    try:
        live = LiveReport(journal_path).start()
    except OSError as error:
        raise JournalError(f"Cannot serve the live report on 127.0.0.1: {error}") from error
    console.print(f"Live report: {live.url} (it stops with the run)", markup=False)
    try:
        yield
    finally:
        live.stop(linger=LINGER)


def serve_report(journal_dir: Path, run_id: str | None, port: int) -> int:
    """``ductwork report --live``: serve until the run ends (or Ctrl-C); the exit code."""
    from ductwork.cli.resume import still_running  # noqa: PLC0415
    from ductwork.report import find_journal, load_journal  # noqa: PLC0415
    from ductwork.report.live import LiveReport  # noqa: PLC0415

    path = find_journal(journal_dir, run_id)
    journal = load_journal(path)
    try:
        live = LiveReport(path, port).start()
    except OSError as error:
        raise JournalError(f"Cannot serve the live report on 127.0.0.1: {error}") from error
    running = journal.get("status") == "running" and still_running(journal)
    until = "until the run ends" if running else "(the run has ended; Ctrl-C to stop)"
    print(f"Live report of run {journal['run_id']}: {live.url} {until}", flush=True)
    try:
        while not running or _still_going(path):
            time.sleep(_WATCH_INTERVAL)  # watching another process's file: nothing to wait on
    except KeyboardInterrupt:
        print("Stopped.", file=sys.stderr)
        live.stop()
        return 130
    live.stop(linger=LINGER)
    return 0


def _still_going(path: Path) -> bool:
    from ductwork.cli.resume import still_running  # noqa: PLC0415
    from ductwork.report import load_journal  # noqa: PLC0415

    try:
        journal = load_journal(path)
    except JournalError:
        return True  # being replaced; the next look sees the new file
    return journal.get("status") == "running" and still_running(journal)


def write_report(journal_dir: Path, run_id: str | None, fmt: str, output: Path | None) -> str:
    """Write the report of run ``run_id`` (the latest when None); return what to print.

    Without ``output`` the report goes to ``reports/`` beside the journal folder, named after
    the journal's file (a checked run id): nothing read from inside a journal picks the path.
    """
    from ductwork.report import find_journal, load_journal, render_chrome_trace, render_html  # noqa: PLC0415
    from ductwork.report.journal import check_run_id, write_atomically  # noqa: PLC0415

    path = find_journal(journal_dir, run_id)
    journal = load_journal(path)
    text = render_html(journal) if fmt == "html" else render_chrome_trace(journal)
    target = output or journal_dir.parent / "reports" / f"{check_run_id(path.stem)}{FORMATS[fmt]}"
    try:
        write_atomically(target, text)
    except OSError as error:
        raise JournalError(f"Cannot write the report to {target}: {error}") from error
    return f"Report of run {journal['run_id']} ({journal.get('status')}): {target.resolve()}"


def list_runs(journal_dir: Path, limit: int) -> str:
    """A table of the latest ``limit`` runs, newest first."""
    from ductwork.cli.progress import seconds  # noqa: PLC0415
    from ductwork.report import journal_paths, load_journal  # noqa: PLC0415

    rows = ["run id                                  status       nodes  took      pipeline"]
    for path in journal_paths(journal_dir)[:limit]:
        try:
            journal = load_journal(path)
        except JournalError as error:
            rows.append(f"{path.stem:<40}unreadable: {error}")
            continue
        started, finished = journal.get("started"), journal.get("finished")
        took = seconds(finished - started) if started and finished else "-"
        counts = journal.get("counts") or {}
        done = f"{counts.get('done', 0)}/{len(journal['nodes'])}"
        when = datetime.fromtimestamp(started).strftime("%Y-%m-%d %H:%M") if started else ""
        rows.append(
            f"{journal['run_id']:<40}{journal.get('status', '?'):<13}{done:<7}{took:<10}"
            f"{journal.get('pipeline')}  {when}"
        )
    if len(rows) == 1:
        return f"No runs recorded in {journal_dir}."
    return "\n".join(rows)

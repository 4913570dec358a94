"""``ductwork report`` and ``ductwork runs``: turn journals into a report, list the runs."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from ductwork.exceptions import JournalError

# The report and the progress display (rich) load when a command runs, not for ``--help``.

__all__ = ["FORMATS", "list_runs", "write_report"]

FORMATS = {"html": ".html", "chrome-trace": ".trace.json"}


def write_report(journal_dir: Path, run_id: str | None, fmt: str, output: Path | None) -> str:
    """Write the report of run ``run_id`` (the latest when None); return what to print."""
    from ductwork.report import find_journal, load_journal, render_chrome_trace, render_html  # noqa: PLC0415
    from ductwork.report.journal import write_atomically  # noqa: PLC0415

    journal = load_journal(find_journal(journal_dir, run_id))
    text = render_html(journal) if fmt == "html" else render_chrome_trace(journal)
    target = output or journal_dir.parent / "reports" / f"{journal['run_id']}{FORMATS[fmt]}"
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

"""The run journal: one JSON file per run that says what ran, where, when, and how it ended.

A :class:`RunJournal` is a :class:`~ductwork.runner.RunObserver`: pass it to ``runner.run`` and it
records every node's start and finish. It writes its file when the run starts, again as nodes
finish, and when the run ends; the command line's ``--resume`` and ``ductwork report`` read it.

Writing is atomic (a reader, or a crash, sees the previous file or the new one, never half of
one: a temporary file, then ``os.replace``) and cheap: a write rewrites the whole file, so as
nodes start and finish the journal writes only if the last write is old enough
(``min_interval``, stretched to keep writing under about 5% of the run's time on huge
pipelines); an event that comes too soon is written by a timer when the interval is over, so
the file is never more than about ``min_interval`` behind the run (the live report reads it).
The end of the run is always written. A process killed outright may lose the last fraction of
a second of events; a resume then re-runs those nodes, which is slower but never wrong.
The first write creates the file whole and only if it does not exist, so two runs can never
share one journal; a journal that cannot be created is an error before the run starts, and one
that cannot be written later is a warning the run survives (:attr:`RunJournal.write_error`).
Reading (:func:`load_journal`) checks every field a reader uses: see ``_journal_check``.

The file (``journal_version`` 1) holds: ``run_id``, ``pipeline`` (how the pipeline was named,
e.g. ``"mymod:pipe"``), ``runner``, ``status`` (``running``, ``success``, ``failed``,
``interrupted`` or ``error``), ``started`` and ``finished`` (seconds since the epoch), ``error``
(``node``, ``type``, ``message``, ``traceback``; or null), whatever the caller adds through
``info`` (the command line adds ``options``, ``command`` and ``resume_command``), and ``nodes``:
every node of the pipeline in topological order with ``name``, ``status`` (``done``, ``failed``,
``skipped``, ``not run``, ``running``, ``interrupted``), ``started``, ``finished``, ``worker``,
``reason`` (why it runs or is skipped), ``error``, ``inputs``, ``outputs``, ``tags`` and
``namespace`` (and, where the runner measures them, ``attempts``, ``peak_rss`` in bytes,
``cpu_time``, ``load_time`` and ``save_time`` in seconds, and the ``pid`` of the process it ran
in: :mod:`ductwork.report.measures`). Given the catalog, it also holds ``datasets``: by name,
``persisted`` and ``type``, and after the run ``size`` (bytes on disk), ``rows`` and ``columns``
where they are cheap to know (:mod:`ductwork.report.datasets`). With its hook plugin
(``journal.hooks``) registered in the run's hook manager, each dataset also gets ``save_time``,
``load_time`` (all loads) and ``loads``, ``rows`` and ``columns`` of the data that passed, and
``memory`` (its size in memory, in bytes). And ``phases``: the run's own stretches (``name``,
``started``, ``finished``) that its caller recorded.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
import traceback
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from ductwork.exceptions import JournalError
from ductwork.io import CatalogProtocol
from ductwork.io._redact import scrub
from ductwork.pipeline import Node, Pipeline
from ductwork.report._journal_check import check_journal, is_run_id
from ductwork.report.datasets import dataset_names, describe_datasets, measure_datasets
from ductwork.report.measures import DatasetMeasures, journal_meter, record_metrics
from ductwork.runner import NodeOutcome, RunObserver
from ductwork.runner.runner import generate_run_id

__all__ = [
    "DEFAULT_DIRECTORY",
    "JOURNAL_VERSION",
    "RunJournal",
    "error_record",
    "find_journal",
    "journal_paths",
    "load_journal",
    "unfinished_nodes",
    "write_atomically",
]

JOURNAL_VERSION = 1
_logger = logging.getLogger(__name__)
DEFAULT_DIRECTORY = Path(".ductwork") / "runs"
# Node statuses after which a resumed run need not run the node again.
FINISHED = frozenset({"done", "skipped"})


def error_record(
    error: BaseException, node: str | None = None, secrets: Iterable[str] = ()
) -> dict[str, Any]:
    """An exception as the journal stores it: node, type, message and formatted traceback.

    The message and the traceback are scrubbed of ``secrets`` and of URLs' credentials.
    """
    kind = type(error)
    name = (
        kind.__qualname__
        if kind.__module__ == "builtins"
        else f"{kind.__module__}.{kind.__qualname__}"
    )
    return {
        "node": node,
        "type": name,
        "message": scrub(_text_of(error), secrets),
        "traceback": scrub(_formatted(error), secrets),
    }


def _text_of(error: BaseException) -> str:
    try:
        return str(error)
    except Exception as broken:  # an exception whose __str__ raises must still be recorded
        return f"<str() of the error failed: {type(broken).__name__}>"


def _formatted(error: BaseException) -> str:
    try:
        return "".join(traceback.format_exception(type(error), error, error.__traceback__))
    except Exception as broken:
        return f"<the traceback could not be formatted: {type(broken).__name__}>"


def write_atomically(path: Path, text: str) -> None:
    """Replace the file at ``path`` with ``text`` in one step: readers see the old or the new.

    Unlike the datasets' atomic saves this does not fsync: a journal is rewritten many times a
    run, and after a power cut an older journal only makes a resume re-run a few more nodes.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def create_atomically(path: Path, text: str) -> None:
    """Create the file at ``path`` holding ``text``, whole, unless it exists.

    The text goes to a temporary file that is then hard-linked to ``path``: linking fails if
    ``path`` exists, so of two runs creating one journal exactly one wins, and no reader ever
    sees the file empty or half written.

    Raises:
        FileExistsError: ``path`` exists.
        OSError: The folder cannot be written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def check_run_id(run_id: str) -> str:
    """Return ``run_id`` if it can name a journal file, else raise :class:`JournalError`."""
    if not is_run_id(run_id):
        raise JournalError(
            f"Run id {run_id!r} cannot name a journal file: use letters, digits, '.', '_' and "
            "'-', starting with a letter or digit."
        )
    return run_id


class RunJournal(RunObserver):
    """Records one run in ``<directory>/<run_id>.json``.

    Use it as a context manager around the run, and pass it as the run's observer::

        with RunJournal(".ductwork/runs", pipeline, runner="SequentialRunner") as journal:
            SequentialRunner().run(pipeline, catalog, run_id=journal.run_id, observer=journal)

    Leaving the block records how the run ended (success, a node's failure, Ctrl-C, another
    error) and writes the file; the exception, if any, goes on.
    """

    def __init__(
        self,
        directory: str | Path,
        pipeline: Pipeline,
        *,
        run_id: str | None = None,
        runner: str = "",
        pipeline_spec: str | None = None,
        reasons: Mapping[str, str] | None = None,
        skipped: Mapping[str, str] | None = None,
        info: Mapping[str, Any] | None = None,
        catalog: CatalogProtocol | None = None,
        secrets: Iterable[str] = (),
        min_interval: float = 0.5,
        max_overhead: float | None = 0.05,
    ) -> None:
        """Prepare the journal of one run (nothing is written before :meth:`start`).

        Args:
            directory: Where journals live (created when missing).
            pipeline: Every node the run was asked about, skipped ones included.
            run_id: The run's id, also the file's name; generated when not given.
            runner: The runner's name, for people reading the journal.
            pipeline_spec: How the pipeline was named (``"module:attribute"``).
            reasons: Why each node runs, by node name.
            skipped: The nodes the run leaves out, by name, with the reason.
            info: More top-level fields (options, the command that started the run).
            catalog: The run's catalog: the journal records which datasets persist, their
                types, and after the run their sizes.
            secrets: Values never to be written: scrubbed from every recorded error.
            min_interval: Seconds between two writes while nodes finish.
            max_overhead: Stretch that interval so that writing takes at most this fraction of
                the run's time (None: never stretch).

        Raises:
            JournalError: ``run_id`` cannot name a file.
        """
        self.run_id = check_run_id(run_id or generate_run_id())
        self.path = Path(directory) / f"{self.run_id}.json"
        self._min_interval = min_interval
        self._max_overhead = max_overhead
        self._next_write = 0.0
        self._lock = threading.RLock()
        self._timer: threading.Timer | None = None
        self._catalog = catalog
        self.write_error: OSError | None = None
        self._secrets = tuple(secrets)
        self._created = False
        self.meter = journal_meter  # every node's CPU time, peak memory, attempts, where it ran
        # Register in the run's hook manager to time loads and saves (the command line does).
        self.hooks = DatasetMeasures()
        skipped = skipped or {}
        reasons = reasons or {}
        self._nodes = [_node_record(node, skipped, reasons) for node in pipeline.nodes]
        self._index = {entry["name"]: i for i, entry in enumerate(self._nodes)}
        self._record: dict[str, Any] = {
            "journal_version": JOURNAL_VERSION,
            "run_id": self.run_id,
            "pipeline": pipeline_spec,
            "runner": runner,
            "status": "running",
            "started": None,
            "finished": None,
            "error": None,
            **(info or {}),
            "nodes": self._nodes,
        }
        if catalog is not None:
            self._record["datasets"] = describe_datasets(catalog, dataset_names(pipeline.nodes))

    @property
    def record(self) -> Mapping[str, Any]:
        """The journal as it stands (read only: change it through the methods)."""
        return self._record

    def update(self, **fields: Any) -> None:
        """Set top-level fields (written with the next write)."""
        with self._lock:
            self._record.update(fields)

    def phase(self, name: str, started: float, finished: float | None) -> None:
        """Record a stretch of the run that no node accounts for (times since the epoch)."""
        with self._lock:
            phases = self._record.setdefault("phases", [])
            phases.append({"name": name, "started": started, "finished": finished})

    def start(self) -> None:
        """Claim the journal's file for this run, record the start and write it.

        Raises:
            JournalError: The file exists (another run has this run id), or cannot be written
                (an unwritable folder, a full disk): nothing has run yet.
        """
        self._record["started"] = time.time()
        try:
            self.write()
        except FileExistsError:
            raise JournalError(
                f"Run id {self.run_id!r} is taken ({self.path} exists): choose another run id."
            ) from None
        except OSError as error:
            raise JournalError(
                f"Cannot write the run journal {self.path}: {error.strerror or error}. "
                "Nothing has run."
            ) from error

    def decide(self, name: str, reason: str, *, skipped: bool = False) -> None:
        """Record why node ``name`` runs or is skipped, when that is decided during the run
        (incremental runs decide some nodes only once their upstream has run)."""
        with self._lock:
            entry = self._nodes[self._index[name]]
            entry["reason"] = reason
            if skipped and entry["status"] == "not run":
                entry["status"] = "skipped"
            elif not skipped and entry["status"] == "skipped":
                entry["status"] = "not run"

    def node_started(self, node: Node) -> None:
        """Mark ``node`` running; write if the last write is old enough."""
        with self._lock:
            entry = self._nodes[self._index[node.name]]
            entry["status"] = "running"
            entry["started"] = time.time()
            self._maybe_write()

    def node_finished(self, outcome: NodeOutcome) -> None:
        """Record how ``outcome.node`` ended; write if the last write is old enough."""
        with self._lock:
            entry = self._nodes[self._index[outcome.node.name]]
            entry.update(started=outcome.started, finished=outcome.finished, worker=outcome.worker)
            if outcome.metrics:
                record_metrics(entry, self._record.setdefault("datasets", {}), outcome.metrics)
            if outcome.error is None:
                entry["status"] = "skipped" if outcome.skipped else "done"
            else:
                entry["status"] = "failed"
                entry["error"] = error_record(outcome.error, outcome.node.name, self._secrets)
            self._maybe_write()

    def _maybe_write(self) -> None:
        wait = self._next_write - time.monotonic()
        if wait <= 0:
            self._write_or_warn()
        elif self._timer is None:
            # Written when the interval is over, so that the file keeps up with a slow node.
            self._timer = threading.Timer(wait, self._write_late)
            self._timer.daemon = True
            self._timer.start()

    def _write_late(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer = None
                self._write_or_warn()

    def _write_or_warn(self) -> None:
        # Once the run has started, a journal that cannot be written (a full disk) must not
        # stop it: the run goes on, a warning says so once, and every later write tries again.
        with self._lock:
            try:
                self.write()
            except OSError as error:
                if self.write_error is None:
                    _logger.warning(
                        "Cannot write the run journal %s (%s); the run goes on, and the journal "
                        "will be written again when it can.",
                        self.path,
                        error.strerror or error,
                    )
                self.write_error = error
                self._next_write = time.monotonic() + self._min_interval
            else:
                self.write_error = None

    def _cancel_timer(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

    def finish(self, status: str, error: dict[str, Any] | None = None) -> None:
        """Record the end of the run and write the file.

        Nodes still marked running were stopped with the run: they become ``interrupted``. If
        the file cannot be written, :attr:`write_error` holds why (and a warning was logged):
        the file then records an earlier moment of the run, and a resume re-runs more nodes.
        """
        with self._lock:
            self._cancel_timer()
            if self._catalog is not None and "datasets" in self._record:
                with contextlib.suppress(Exception):  # sizes are a nicety; the end must be written
                    measure_datasets(self._catalog, self._record["datasets"])
            self._finish(status, error)

    def _finish(self, status: str, error: dict[str, Any] | None) -> None:
        for entry in self._nodes:
            if entry["status"] == "running":
                entry["status"] = "interrupted"
        failed = next((entry for entry in self._nodes if entry["status"] == "failed"), None)
        self._record.update(
            status=status,
            finished=time.time(),
            error=error if error is not None else (failed or {}).get("error"),
        )
        self._write_or_warn()

    def write(self) -> None:
        """Write the journal now (atomically; the first write creates the file, or fails)."""
        with self._lock:
            began = time.monotonic()
            self._record["counts"] = _counts(self._nodes)
            text = json.dumps(self._record, separators=(",", ":"), default=str)
            if self._created:
                write_atomically(self.path, text)
            else:
                create_atomically(self.path, text)
                self._created = True
        now = time.monotonic()
        stretched = (now - began) / self._max_overhead if self._max_overhead else 0.0
        self._next_write = now + max(self._min_interval, stretched)

    def __enter__(self) -> RunJournal:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            self.finish("success")
        elif isinstance(exc, KeyboardInterrupt):
            self.finish("interrupted")
        elif any(entry["status"] == "failed" for entry in self._nodes):
            self.finish("failed")
        else:
            self.finish("error", error_record(exc, secrets=self._secrets))


def _node_record(
    node: Node, skipped: Mapping[str, str], reasons: Mapping[str, str]
) -> dict[str, Any]:
    return {
        "name": node.name,
        "status": "skipped" if node.name in skipped else "not run",
        "reason": skipped.get(node.name) or reasons.get(node.name),
        "started": None,
        "finished": None,
        "worker": None,
        "error": None,
        "inputs": list(node.inputs),
        "outputs": list(node.outputs),
        "tags": sorted(node.tags),
        "namespace": node.namespace,
    }


def _counts(nodes: list[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for entry in nodes:
        counts[entry["status"]] = counts.get(entry["status"], 0) + 1
    return counts


def unfinished_nodes(journal: Mapping[str, Any]) -> list[str]:
    """The names of the nodes a resumed run must run again (neither done nor skipped)."""
    return [entry["name"] for entry in journal["nodes"] if entry["status"] not in FINISHED]


def load_journal(path: str | Path) -> dict[str, Any]:
    """Read a journal file, checking every field a reader uses (see ``_journal_check``).

    Raises:
        JournalError: The file is missing, unreadable, not a journal, malformed (the message
            names the file and the key), or from a newer ductwork.
    """
    path = Path(path)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as error:
        reason = "nested too deeply" if isinstance(error, RecursionError) else error
        raise JournalError(f"Cannot read the run journal {path}: {reason}") from error
    version = record.get("journal_version") if isinstance(record, dict) else None
    if not isinstance(version, int) or isinstance(version, bool):
        raise JournalError(f"{path} is not a ductwork run journal (no journal_version).")
    if version > JOURNAL_VERSION:
        raise JournalError(
            f"{path} was written by a newer ductwork (journal version {version}); upgrade ductwork "
            "to read it."
        )
    return check_journal(record, path)


def journal_paths(directory: str | Path) -> list[Path]:
    """The journal files in ``directory``, most recently written first."""
    folder = Path(directory)
    if not folder.is_dir():
        return []
    dated = []
    for path in folder.glob("*.json"):
        if path.name.startswith("."):
            continue
        try:
            dated.append((path.stat().st_mtime_ns, path.name, path))
        except OSError:
            continue  # removed since the listing: not a journal any more
    return [path for _, _, path in sorted(dated, reverse=True)]


def find_journal(directory: str | Path, run_id: str | None = None) -> Path:
    """The journal of ``run_id``, or of the latest run when ``run_id`` is None.

    Raises:
        JournalError: There is no such journal.
    """
    if run_id is not None:
        path = Path(directory) / f"{check_run_id(run_id)}.json"
        if not path.is_file():
            raise JournalError(f"No journal for run {run_id!r} in {directory}.")
        return path
    paths = journal_paths(directory)
    if not paths:
        raise JournalError(f"No run journal in {directory}: run `ductwork run` first.")
    return paths[0]

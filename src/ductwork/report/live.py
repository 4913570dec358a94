"""The live report: the HTML report of a journal, served on the loopback address as it changes.

:class:`LiveReport` serves three things: ``/`` (and ``/report.html``), the report of the journal
as it is now, rendered with ``live=True``; and ``/version``, a token that changes whenever the
journal file does (its modification time and size). The page asks for ``/version`` a few times
a second and, when it changes, fetches the new report and swaps it in, keeping the reader's
zoom, switches, filters and selection. The journal is rewritten at least every half second
while nodes start and finish (:class:`~ductwork.report.RunJournal`), so the page is about a
second behind the run at most.

Only ``127.0.0.1`` is ever bound: a report names files, functions and errors of the project
and is not for the network. The server runs on daemon threads of the process that owns it
and stops when told (with the run, for ``ductwork run --serve``).
"""

from __future__ import annotations

import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from ductwork.exceptions import JournalError
from ductwork.report.html import render_html
from ductwork.report.journal import load_journal

__all__ = ["LOOPBACK", "LiveReport"]

LOOPBACK = "127.0.0.1"
WATCHED = 3.0  # seconds since a page's last question after which nobody is watching


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    report: LiveReport


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        report = self.server.report
        if path == "/version":
            report.polled()
            self._send(HTTPStatus.OK, "text/plain", report.version().encode())
        elif path in {"/", "/report.html"}:
            try:
                version, page = report.page()
            except JournalError as error:
                self._send(HTTPStatus.SERVICE_UNAVAILABLE, "text/plain", str(error).encode())
                return
            self._send(HTTPStatus.OK, "text/html; charset=utf-8", page.encode())
            report.served(version)
        else:
            self._send(HTTPStatus.NOT_FOUND, "text/plain", b"not found")

    def _send(self, status: HTTPStatus, kind: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: a request log would interleave with the run's own output."""


class LiveReport:
    """Serves the report of the journal at ``journal_path`` on ``127.0.0.1:port``.

    Use it as a context manager, or call :meth:`start` and :meth:`stop`::

        with LiveReport(journal.path) as live:
            print("Live report:", live.url)
            ...  # run
    """

    def __init__(self, journal_path: str | Path, port: int = 0) -> None:
        """Prepare to serve ``journal_path`` (``port`` 0: any free port)."""
        self.journal_path = Path(journal_path)
        self._port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._cache: tuple[str, str] | None = None
        self._served = threading.Condition()
        self._last_served = ""
        self._last_poll = float("-inf")

    @property
    def url(self) -> str:
        """Where the report is, once started."""
        assert self._server is not None, "start() the live report first"
        return f"http://{LOOPBACK}:{self._server.server_address[1]}/"

    def start(self) -> LiveReport:
        """Bind the loopback address and serve on a daemon thread.

        Raises:
            OSError: The port is taken.
        """
        server = _Server((LOOPBACK, self._port), _Handler)
        server.report = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, name="ductwork-live-report", daemon=True
        )
        self._thread.start()
        return self

    def version(self) -> str:
        """A token that changes whenever the journal file changes."""
        try:
            stat = self.journal_path.stat()
        except OSError:
            return "missing"
        return f"{stat.st_mtime_ns}-{stat.st_size}"

    def page(self) -> tuple[str, str]:
        """The version and the report of the journal as it is now (rendered once per version)."""
        with self._lock:
            version = self.version()
            if self._cache is None or self._cache[0] != version:
                self._cache = (
                    version,
                    render_html(load_journal(self.journal_path), live=True, version=version),
                )
            return self._cache

    def polled(self) -> None:
        """Note that a page asked for the version: someone is watching."""
        with self._served:
            self._last_poll = time.monotonic()

    def served(self, version: str) -> None:
        """Note that a page of ``version`` went out (:meth:`stop` waits for the last one)."""
        with self._served:
            self._last_served = version
            self._last_poll = time.monotonic()  # a page just loaded: it will ask soon
            self._served.notify_all()

    def stop(self, linger: float = 0.0) -> None:
        """Stop serving; first let a watching page fetch the last version.

        A reader who watched the run then sees how it ended before the server goes away. The
        server waits while a page has asked for the version in the last :data:`WATCHED`
        seconds and has not fetched the last one, for ``linger`` seconds at most.
        """
        if self._server is None:
            return
        deadline = time.monotonic() + linger
        with self._served:
            while self._last_served != self.version():
                now = time.monotonic()
                if now >= deadline or now - self._last_poll > WATCHED:
                    break
                self._served.wait(min(deadline - now, 0.1))
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None

    def __enter__(self) -> LiveReport:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

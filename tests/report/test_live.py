"""The live report: served on the loopback address, updated as the journal changes, stopped with
the run. The browser test watches a real ``ductwork run --serve`` in a headless Chromium."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from ductwork.report.journal import write_atomically
from ductwork.report.live import LOOPBACK, LiveReport
from tests.report.chromium import BROWSER, Chromium, read_lines, wait_line
from tests.report.conftest import real_journal

pytestmark = pytest.mark.timeout(180)

PROJECT = """
import pathlib
import time

from ductwork.pipeline import Pipeline, node

GO = pathlib.Path(__file__).with_name("go")


def first():
    return 1


def gate(value):
    # Waits for the test to create the file "go": the run goes on while the page is watched.
    deadline = time.monotonic() + 90
    while not GO.exists():
        if time.monotonic() > deadline:
            raise TimeoutError("the test never said go")
        time.sleep(0.02)
    return value


def after(value):
    return value + 1


pipeline = Pipeline(
    [
        node(first, None, "a", name="first"),
        node(gate, "a", "b", name="gate"),
        node(after, "b", "c", name="after"),
    ]
)
"""


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return str(answer.read().decode())


def test_the_server_binds_loopback_and_follows_the_journal(tmp_path: Path) -> None:
    journal = real_journal(tmp_path)
    path = tmp_path / "run.json"
    write_atomically(path, json.dumps(journal))
    live = LiveReport(path).start()
    url = live.url
    try:
        assert live.url.startswith(f"http://{LOOPBACK}:")
        first = _get(live.url + "version")
        page = _get(live.url)
        assert '"live":true' in page
        assert 'data-node="d"' in page
        journal["nodes"][0]["name"] = "renamed_node"
        write_atomically(path, json.dumps(journal))
        os.utime(path, ns=(time.time_ns(), time.time_ns() + 1_000_000))
        assert _get(live.url + "version") != first
        assert 'data-node="renamed_node"' in _get(live.url + "report.html")
        with pytest.raises(urllib.error.HTTPError):
            _get(live.url + "etc/passwd")
    finally:
        live.stop()
    with pytest.raises(urllib.error.URLError):
        _get(url + "version")


@pytest.fixture
def serving_run(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str, Path]]:
    (tmp_path / "flow.py").write_text(PROJECT)
    process = subprocess.Popen(
        [sys.executable, "-m", "ductwork.cli", "run", "flow:pipeline", "--serve"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200", "PYTHONPATH": str(tmp_path)},
    )
    try:
        assert process.stderr is not None
        found = wait_line(read_lines(process.stderr), r"Live report: (http://\S+)", timeout=90)
        yield process, found.group(1), tmp_path
    finally:
        (tmp_path / "go").touch()
        try:
            process.wait(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=30)
            if process.stderr is not None:
                process.stderr.close()


def _status(browser: Chromium, name: str) -> str:
    return (
        "(() => { const g = document.querySelector("
        f"'svg.graph:not([hidden]) g.node[data-node=\"{name}\"]');"
        " return g ? Array.from(g.classList).find((c) => c.startsWith('st-')) : null; })()"
    )


@pytest.mark.skipif(BROWSER is None, reason="no Chromium on PATH (`.ci/run` installs it)")
def test_the_live_view_updates_while_the_run_goes_on(
    serving_run: tuple[subprocess.Popen[str], str, Path], tmp_path: Path
) -> None:
    process, url, project = serving_run
    assert url.startswith(f"http://{LOOPBACK}:")
    with Chromium(tmp_path / "profile") as browser:
        browser.open(url)
        # The gate node waits for the test: the page shows it running, the next not run yet.
        assert browser.wait_for(f"{_status(browser, 'gate')} === 'st-running'", timeout=60)
        assert browser.evaluate(_status(browser, "after")) == "st-notrun"
        assert browser.evaluate("document.getElementById('run-status').textContent") == "running"
        browser.evaluate("document.getElementById('show-datasets').click()")
        (project / "go").touch()
        shown = f"{_status(browser, 'after')} === 'st-done'"
        assert browser.wait_for(shown, timeout=60), browser.evaluate(
            "JSON.stringify(document.documentElement.dataset)"
        )
        assert browser.wait_for(
            "document.getElementById('run-status').textContent === 'success'", timeout=60
        )
        assert int(browser.evaluate("document.documentElement.dataset.liveUpdates")) >= 1
        # The reader's choice survives the updates: datasets are still hidden.
        assert browser.evaluate("document.documentElement.dataset.graphView") == "nodes"
        assert process.wait(timeout=60) == 0
        # The server stopped with the run, and the page says so.
        assert browser.wait_for("document.documentElement.dataset.liveEnded === 'true'", 30)
    with pytest.raises(urllib.error.URLError):
        _get(url + "version")


def test_report_live_serves_a_run_started_elsewhere_until_it_ends(tmp_path: Path) -> None:
    # The "run" is a journal that says running, owned by a live process of this test.
    owner = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    )
    journal = real_journal(tmp_path / "scratch")
    journal.update(status="running", finished=None, pid=owner.pid, host=socket.gethostname())
    runs = tmp_path / "runs"
    path = runs / f"{journal['run_id']}.json"
    write_atomically(path, json.dumps(journal))
    server = subprocess.Popen(
        [sys.executable, "-m", "ductwork.cli", "report", "--live", "--journal-dir", str(runs)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        found = wait_line(read_lines(server.stdout), r"(http://\S+) until the run ends", timeout=90)
        url = found.group(1)
        assert url.startswith(f"http://{LOOPBACK}:")
        assert '"status":"running"' in _get(url)
        journal.update(status="success", finished=time.time())
        write_atomically(path, json.dumps(journal))
        assert server.wait(timeout=60) == 0, server.stderr.read() if server.stderr else ""
    finally:
        assert owner.stdin is not None
        owner.stdin.close()
        owner.wait(timeout=30)
        if server.poll() is None:
            server.kill()
            server.wait(timeout=30)
    with pytest.raises(urllib.error.URLError):
        _get(url + "version")

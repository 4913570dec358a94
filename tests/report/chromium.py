"""A headless Chromium driven over the DevTools protocol: open a page, evaluate, screenshot.

Chromium comes from Debian's packages (``.ci/run`` installs it); the protocol is spoken over a
websocket (websocket-client). Every wait has a deadline, and waits poll the page's own state
(an attribute the report's script sets), never a fixed sleep.
"""

from __future__ import annotations

import base64
import contextlib
import json
import queue
import re
import shutil
import subprocess
import threading
import time
import urllib.request
from pathlib import Path
from typing import IO, Any

import websocket

BROWSER = next(
    (
        found
        for name in ("chromium", "chromium-browser", "google-chrome")
        if (found := shutil.which(name))
    ),
    None,
)
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)
_LISTENING = re.compile(r"DevTools listening on (ws://\S+)")


def read_lines(stream: IO[str]) -> queue.Queue[str]:
    """The lines of ``stream`` as they come, read on a daemon thread."""
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        for line in stream:
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    return lines


def wait_line(lines: queue.Queue[str], pattern: str, timeout: float) -> re.Match[str]:
    """The first line matching ``pattern``; fail, showing the lines seen, after ``timeout``."""
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(deadline - time.monotonic(), 0.01))
        except queue.Empty:
            break
        seen.append(line)
        found = re.search(pattern, line)
        if found:
            return found
    raise AssertionError(f"no line matching {pattern!r} in:\n{''.join(seen)}")


class Chromium:
    """One headless browser with one page, as a context manager."""

    def __init__(self, profile: Path, width: int = 1400, height: int = 900) -> None:
        """Start Chromium with a fresh profile in ``profile`` and a ``width`` x ``height`` page."""
        assert BROWSER is not None, "no Chromium on PATH"
        self._process = subprocess.Popen(
            [
                BROWSER,
                *FLAGS,
                f"--user-data-dir={profile}",
                "--remote-debugging-port=0",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._messages = 0
        try:
            port = self._port(timeout=60)
            self._socket = websocket.create_connection(self._page_socket(port), timeout=60)
            self.call(
                "Emulation.setDeviceMetricsOverride",
                width=width,
                height=height,
                deviceScaleFactor=1,
                mobile=False,
            )
        except BaseException:
            self.close()
            raise

    def _port(self, timeout: float) -> int:
        assert self._process.stderr is not None
        found = wait_line(read_lines(self._process.stderr), _LISTENING.pattern, timeout)
        return int(found.group(1).split(":")[2].split("/")[0])

    @staticmethod
    def _page_socket(port: int) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=30) as answer:
            targets = json.load(answer)
        page = next(target for target in targets if target["type"] == "page")
        return str(page["webSocketDebuggerUrl"])

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one DevTools command and return its result (events in between are dropped)."""
        self._messages += 1
        number = self._messages
        self._socket.send(json.dumps({"id": number, "method": method, "params": params}))
        while True:
            message = json.loads(self._socket.recv())
            if message.get("id") == number:
                if "error" in message:
                    raise AssertionError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (promises are awaited)."""
        result = self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression[:200]}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def open(self, url: str, ready: str = "document.documentElement.dataset.rendered") -> None:
        """Go to ``url`` and wait until the expression ``ready`` is true."""
        self.call("Page.navigate", url=url)
        self.wait_for(ready)

    def wait_for(self, expression: str, timeout: float = 30.0) -> Any:
        """Poll ``expression`` until it is truthy; fail after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                value = self.evaluate(expression)
            except AssertionError:
                value = None  # the page is between two documents
            if value:
                return value
            if time.monotonic() > deadline:
                state = self.evaluate("JSON.stringify(document.documentElement.dataset)")
                raise AssertionError(f"timed out waiting for {expression}; the page: {state}")
            time.sleep(0.05)  # polling the page's state, not waiting for it to happen

    def screenshot(self, path: Path, full_page: bool = False) -> Path:
        """Save what the page shows (the whole page when ``full_page``) as a PNG."""
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            params["captureBeyondViewport"] = True
            size = self.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
            )
            params["clip"] = {"x": 0, "y": 0, "width": size[0], "height": size[1], "scale": 1}
        path.write_bytes(base64.b64decode(self.call("Page.captureScreenshot", **params)["data"]))
        return path

    def close(self) -> None:
        """Stop the browser."""
        with contextlib.suppress(Exception):
            self._socket.close()
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=20)
        if self._process.stderr is not None:
            self._process.stderr.close()

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

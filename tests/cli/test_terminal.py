"""On a terminal, ``ductwork run`` shows a live display (checked through a pseudo-terminal)."""

from __future__ import annotations

import os
import pty
import re
import subprocess
from pathlib import Path

import pytest

from tests.cli.conftest import BASE, command

pytestmark = pytest.mark.timeout(60)


def test_live_display_on_a_terminal(project: Path) -> None:
    leader, follower = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"}
    env.pop("NO_COLOR", None)
    process = subprocess.Popen(
        command("run", "proj:pipeline", *BASE, "--runner", "thread"),
        cwd=project,
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=env,
    )
    os.close(follower)
    output = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: every process holding the terminal has closed it
            break
        if not chunk:
            break
        output += chunk
    os.close(leader)
    assert process.wait(timeout=30) == 0
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", output.decode(errors="replace"))
    assert "/5 nodes" in text, "the live header: nodes done out of the total"
    for name in ("make", "double", "add", "report", "stats.mean"):
        assert f"\u2714 {name}" in text
    assert "succeeded: 5 nodes done" in text
    assert "[5/5] done" not in text, "no plain log lines on a terminal"

"""The HTML report in a real headless browser: the graph and the timeline render, no script error.

Chromium comes from Debian's packages (``.ci/run`` installs it). Without a browser these tests
are skipped, saying so.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ductwork.report import render_html

BROWSER = next(
    (
        found
        for name in ("chromium", "chromium-browser", "google-chrome")
        if (found := shutil.which(name))
    ),
    None,
)
pytestmark = [
    pytest.mark.skipif(
        BROWSER is None,
        reason="no Chromium on PATH: `.ci/run` installs Debian's `chromium` (apt-get install "
        "chromium); the report's browser check needs it",
    ),
    pytest.mark.timeout(120),
]


def dump_dom(page: Path, profile: Path) -> str:
    """The page's DOM after its scripts ran, as headless Chromium sees it (no network)."""
    assert BROWSER is not None
    result = subprocess.run(
        [
            BROWSER,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert "<html" in result.stdout, result.stderr[-2000:]
    return result.stdout


def test_the_report_renders_graph_and_timeline(
    tmp_path: Path, failed_journal: dict[str, Any]
) -> None:
    page = tmp_path / "report.html"
    page.write_text(render_html(failed_journal))
    dom = dump_dom(page, tmp_path / "profile")
    ran = sum(1 for n in failed_journal["nodes"] if n["finished"] is not None)
    assert 'data-script-error="' not in dom
    assert 'data-rendered="graph timeline"' in dom
    assert f'data-graph-nodes="{len(failed_journal["nodes"])}"' in dom
    assert f'data-timeline-bars="{ran}"' in dom
    # The hostile error message is in the page as text, not as markup.
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in dom


def test_a_script_error_would_be_seen(tmp_path: Path, failed_journal: dict[str, Any]) -> None:
    html = render_html(failed_journal)
    broken = html.replace(
        '<script type="application/json"',
        '<script>nosuch();</script><script type="application/json"',
        1,
    )
    page = tmp_path / "broken.html"
    page.write_text(broken)
    dom = dump_dom(page, tmp_path / "profile")
    assert 'data-script-error="' in dom
    assert "nosuch" in dom

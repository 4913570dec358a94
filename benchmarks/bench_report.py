"""The HTML report at size: render time, file size, and open-to-usable time in headless Chromium.

A synthetic journal of N nodes in namespaces (chains and fan-ins, four workers, one failure) is
rendered as ``ductwork report`` would, then opened in Debian's Chromium over the DevTools
protocol. "Usable" is the moment the report's script has run (every handler bound, the table's
first page built) and two frames have been painted after it: ``data-painted-ms``, measured by
the page from the start of navigation. Best of ``--rounds`` rounds; the machine may be shared.

    python benchmarks/bench_report.py                 # 100, 1000 and 10000 nodes
    python benchmarks/bench_report.py --sizes 10000 --screenshots /tmp/shots
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.report.chromium

from tests.report.chromium import BROWSER, Chromium

from ductwork.report import render_html

NAMESPACE_SIZE = 20


def synthetic_journal(count: int, seed: int = 7) -> dict[str, Any]:
    """A finished, failed run of ``count`` nodes: namespaces of 20, chains with fan-ins."""
    rng = random.Random(seed)
    start = 1_000_000.0
    nodes: list[dict[str, Any]] = []
    clock = [start + 0.8] * 4
    failed = f"part{(count - 1) // NAMESPACE_SIZE}.step{(count - 1) % NAMESPACE_SIZE - 3}"
    for i in range(count):
        group, step = divmod(i, NAMESPACE_SIZE)
        name = f"part{group}.step{step}"
        inputs = [f"part{group}.out{step - 1}"] if step else [f"raw{group}"]
        if step > 2 and rng.random() < 0.4:
            inputs.append(f"part{group}.out{rng.randrange(step - 1)}")
        if step == 0 and group and rng.random() < 0.3:
            inputs.append(f"part{rng.randrange(group)}.out{NAMESPACE_SIZE - 1}")
        worker = rng.randrange(4)
        took = rng.uniform(0.01, 0.2)
        began = clock[worker]
        clock[worker] += took
        nodes.append(
            {
                "name": name,
                "status": "done",
                "reason": None,
                "started": began,
                "finished": began + took,
                "worker": f"pid {4000 + worker}",
                "error": None,
                "inputs": inputs,
                "outputs": [f"part{group}.out{step}"],
                "tags": [],
                "namespace": f"part{group}",
            }
        )
    error = {
        "node": failed,
        "type": "ValueError",
        "message": "a row without a price",
        "traceback": "Traceback (most recent call last):\n"
        '  File "/site/ductwork/runner/loop.py", line 1, in run_loop\n    run(node)\n'
        '  File "/home/me/project/nodes.py", line 3, in step\n    raise ValueError()\n'
        "ValueError: a row without a price\n",
    }
    for node in nodes:
        if node["name"] == failed:
            node.update(status="failed", error=error)
    counts: dict[str, int] = {}
    for node in nodes:
        counts[node["status"]] = counts.get(node["status"], 0) + 1
    datasets = {
        output: {"persisted": int(output.rsplit("out", 1)[1]) % 5 == 4}
        for node in nodes
        for output in node["outputs"]
    }
    return {
        "journal_version": 1,
        "run_id": f"synthetic-{count}",
        "pipeline": "bench:synthetic",
        "runner": "parallel",
        "status": "failed",
        "started": start,
        "finished": max(clock) + 0.1,
        "error": error,
        "counts": counts,
        "datasets": datasets,
        "phases": [{"name": "loading the project", "started": start - 0.5, "finished": start}],
        "nodes": nodes,
    }


def measure(count: int, rounds: int, screenshots: Path | None) -> dict[str, Any]:
    journal = synthetic_journal(count)
    began = time.perf_counter()
    page = render_html(journal)
    render = time.perf_counter() - began
    folder = Path(tempfile.mkdtemp(prefix="bench-report-"))
    path = folder / f"report-{count}.html"
    path.write_text(page, encoding="utf-8")
    best: dict[str, float] = {}
    for _ in range(rounds):
        with Chromium(folder / f"profile-{time.monotonic_ns()}") as browser:
            began = time.perf_counter()
            browser.open(path.as_uri(), ready="document.documentElement.dataset.paintedMs")
            wall = time.perf_counter() - began
            painted = float(browser.evaluate("document.documentElement.dataset.paintedMs"))
            error = browser.evaluate("document.documentElement.getAttribute('data-script-error')")
            assert error is None, error
            view = browser.evaluate("document.documentElement.dataset.graphView || 'table'")
            if painted < best.get("painted", float("inf")):
                best = {"painted": painted, "wall": wall}
            if screenshots is not None:
                screenshots.mkdir(parents=True, exist_ok=True)
                browser.screenshot(screenshots / f"report-{count}.png")
    return {
        "nodes": count,
        "render_s": render,
        "size_mb": len(page.encode()) / 1e6,
        "usable_ms": best["painted"],
        "wall_ms": best["wall"] * 1000,
        "view": view,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--screenshots", type=Path)
    options = parser.parse_args()
    if BROWSER is None:
        sys.exit("no Chromium on PATH: apt-get install chromium")
    print(
        f"{'nodes':>7} {'render (s)':>11} {'file (MB)':>10} {'usable (ms)':>12} "
        f"{'open+wait (ms)':>15}  opens on"
    )
    for count in options.sizes:
        row = measure(count, options.rounds, options.screenshots)
        print(
            f"{row['nodes']:>7} {row['render_s']:>11.2f} {row['size_mb']:>10.2f} "
            f"{row['usable_ms']:>12.0f} {row['wall_ms']:>15.0f}  {row['view']}",
            flush=True,
        )


if __name__ == "__main__":
    main()

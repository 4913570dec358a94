"""Ctrl-C in every runner, concurrency caps, and a stress test of failures at scale."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from functools import partial
from pathlib import Path

import pytest

from ductwork.exceptions import NodesFailedError
from ductwork.hooks import create_hook_manager
from ductwork.io import DataCatalog, MemoryDataset
from ductwork.pipeline import Pipeline, node
from tests.runner.conftest import RUNNERS
from tests.runner.helpers import EventLog, read_events, succeed_or_fail, wait_for_file

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
from functools import partial
from ductwork.io import DataCatalog, MemoryDataset
from ductwork.pipeline import Pipeline, node
from tests.runner.conftest import RUNNERS
from tests.runner.helpers import hang_until, identity

hangs = partial(hang_until, {release!r}, {started!r})
pipeline = Pipeline([
    node(hangs, "x", "y", name="hangs"),
    node(hangs, "x", "y2", name="hangs_too"),
    node(identity, "y", "z", name="after"),
])
if __name__ == "__main__":  # process runners re-import this script in their workers
    RUNNERS[{runner!r}]().run(pipeline, DataCatalog({{"x": MemoryDataset(1)}}))
    print("run returned")
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/stat")
    return not (status.exists() and status.read_text().split()[2] == "Z")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("runner", list(RUNNERS))
def test_ctrl_c_stops_the_run_promptly_and_leaves_nothing_running(
    runner: str, tmp_path: Path
) -> None:
    started, release = tmp_path / "started", tmp_path / "release"
    script = tmp_path / "run.py"
    script.write_text(SCRIPT.format(release=str(release), started=str(started), runner=runner))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, str(script)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_file(started)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
        release.touch()
    assert "KeyboardInterrupt" in err, err
    assert "run returned" not in out
    assert proc.returncode != 0
    node_pids = {
        int(line.split('"pid": ')[1].split(",")[0].rstrip("}"))
        for line in started.read_text().splitlines()
    }
    assert not [pid for pid in node_pids if pid != proc.pid and alive(pid)]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("runner", [name for name in RUNNERS if name != "sequential"])
def test_max_running_caps_concurrent_nodes(runner: str, tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    pipeline = Pipeline(
        [node(partial(succeed_or_fail, False), "x", f"o{i}", name=f"n{i}") for i in range(12)]
    )
    RUNNERS[runner](max_running=2).run(
        pipeline, DataCatalog({"x": MemoryDataset(1)}), create_hook_manager(EventLog(log))
    )
    running, most = 0, 0
    for event in read_events(log):
        if event["hook"] == "before_dataset_loaded":
            running += 1
            most = max(most, running)
        elif event["hook"] == "after_dataset_saved":
            running -= 1
    assert 1 <= most <= 2


def random_failing_dag(seed: int, size: int) -> tuple[Pipeline, set[str]]:
    rng = random.Random(seed)
    nodes, failing = [], set()
    for i in range(size):
        parents = rng.sample(range(i), k=min(i, rng.randint(0, 3)))
        name = f"n{i:05d}"
        fails = rng.random() < 0.01
        if fails:
            failing.add(name)
        inputs = [f"d{p}" for p in parents] or ["seed"]
        nodes.append(node(partial(succeed_or_fail, fails), inputs, f"d{i}", name=name))
    return Pipeline(nodes), failing


@pytest.mark.timeout(600)
@pytest.mark.parametrize("runner", ["thread", "parallel"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_stress_random_failures_keep_going(runner: str, seed: int, tmp_path: Path) -> None:
    pipeline, failing = random_failing_dag(seed, 2000)
    log = tmp_path / "events.jsonl"
    with pytest.raises(NodesFailedError) as info:
        RUNNERS[runner](keep_going=True).run(
            pipeline, DataCatalog({"seed": MemoryDataset(0)}), create_hook_manager(EventLog(log))
        )
    # A failing node downstream of another failure never runs, so it is not reported.
    blocked = {n.name for f in failing for n in pipeline.from_nodes(f).nodes if n.name != f}
    assert {name for name, _ in info.value.failures} == failing - blocked
    ran = [e["node"] for e in read_events(log) if e["hook"] == "before_node_run"]
    assert len(ran) == len(set(ran)), "a node ran twice"
    assert set(ran) == {n.name for n in pipeline.nodes} - blocked

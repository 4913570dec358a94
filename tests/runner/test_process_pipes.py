"""The parent and a worker never wait for each other forever.

A worker writes to its pipe with blocking writes (log records, outcomes) and reads the parent's
next message only between nodes. If the parent, meanwhile, wrote a message larger than the pipe
holds (a batch of tasks with their inline inputs) with a blocking write, both would wait forever
once the worker's own writes filled the pipe the other way.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(120)

SCRIPT = '''
import logging, os, sys, time
from pathlib import Path
from ductwork.io import DataCatalog, MemoryDataset
from ductwork.pipeline import Pipeline, node
from ductwork.runner import ParallelRunner, RunObserver

MARK = Path(sys.argv[1])  # the parent is about to send the nodes that read the large inputs


def first(x):
    return x


def talk(x):
    """Logs megabytes, once the parent writes to this worker."""
    deadline = time.monotonic() + 30
    while not MARK.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    for i in range(5000):  # about 1.3 MB: more than the pipe holds
        logging.getLogger("talk").warning("line %d %s", i, "x" * 200)
    return "talked"


def size(a, *blobs):
    return sum(map(len, blobs))


class MarkWhenHandedOut(RunObserver):
    def node_started(self, node):
        if node.name.startswith("s"):
            MARK.touch()


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, stream=open(os.devnull, "w"))
    nodes = [node(first, "x", "a", name="a"), node(talk, "a", "t", name="a_talk")]
    data = {"x": MemoryDataset(1)}
    for i in range(4):  # each with 6 inputs of 60 kB, which travel inline with the node
        names = [f"b{i}_{j}" for j in range(6)]
        data.update((name, MemoryDataset(bytes(60_000))) for name in names)
        nodes.append(node(size, ["a", *names], f"s{i}", name=f"s{i}"))
    out = ParallelRunner(max_workers=1).run(
        Pipeline(nodes), DataCatalog(data), observer=MarkWhenHandedOut()
    )
    print(out["t"].load(), sorted(out[f"s{i}"].load() for i in range(4)))
'''


def test_a_worker_logging_a_lot_while_the_parent_sends_it_large_tasks(tmp_path: Path) -> None:
    script = tmp_path / "talk.py"
    script.write_text(SCRIPT, encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path / "mark")],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail("the run hung: the parent and its worker each waited for the other")
    assert process.returncode == 0, stderr
    assert stdout.split() == ["talked", "[360000,", "360000,", "360000,", "360000]"]

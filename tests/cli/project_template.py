"""A small project for the command-line tests, copied into a temporary folder as ``proj.py``.

Every node appends its name to ``calls.log`` beside this file, so a test sees exactly which
nodes ran, in any runner (threads, worker processes). ``add`` fails while a file ``fail_add``
exists; ``gate`` blocks on a FIFO handshake until the test lets it go (or ``go`` exists).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ductwork.pipeline import Pipeline, node

HERE = Path(__file__).resolve().parent
HOSTILE = "<script>alert(1)</script> & </pre><!-- failed on purpose"


def _record(name: str) -> None:
    with open(HERE / "calls.log", "a", encoding="utf-8") as log:
        log.write(name + "\n")


def make(start: int) -> int:
    _record("make")
    return start + 1


def double(x: int) -> int:
    _record("double")
    return 2 * x


def add(a: int, b: int) -> int:
    _record("add")
    if (HERE / "fail_add").exists():
        raise ValueError(HOSTILE)
    return a + b


def report(total: int, factor: int, parameters: dict[str, Any]) -> str:
    _record("report")
    return f"total={total * factor} start={parameters['start']}"


def mean(total: int) -> float:
    _record("stats.mean")
    return total / 2


def gate(x: int, handshake: str) -> int:
    """Say "started" (with this process's id) through one FIFO, then wait on another."""
    _record("gate")
    folder = Path(handshake)
    if not (folder / "go").exists():
        with open(folder / "started", "w", encoding="utf-8") as started:
            started.write(str(os.getpid()))
        with open(folder / "release", encoding="utf-8") as release:
            release.read()
    return x


def finish(x: int) -> int:
    _record("finish")
    return x + 100


pipeline = Pipeline(
    [
        node(make, "params:start", "raw", name="make", tags=["first"]),
        node(double, "raw", "doubled", name="double"),
        node(add, ["raw", "doubled"], "total", name="add"),
        node(
            report,
            ["total", "params:nested.factor", "parameters"],
            "summary",
            name="report",
            tags=["last"],
        ),
        node(mean, "total", "stats.mean", name="mean", namespace="stats"),
    ]
)

interruptible = Pipeline(
    [
        node(make, "params:start", "raw", name="make"),
        node(gate, ["raw", "params:handshake"], "gated", name="gate"),
        node(finish, "gated", "final", name="finish"),
    ]
)

# The same with its intermediates in memory: a runner may start ``gate`` before the run loop
# hands it out (the Dask runner submits the whole chain at once); the journal must still tell.
interruptible_in_memory = Pipeline(
    [
        node(make, "params:start", "raw_in_memory", name="make"),
        node(gate, ["raw_in_memory", "params:handshake"], "gated_in_memory", name="gate"),
        node(finish, "gated_in_memory", "final", name="finish"),
    ]
)

pipelines = {"__default__": pipeline, "small": Pipeline([pipeline.nodes[0]])}


def create_pipelines() -> dict[str, Pipeline]:
    return pipelines

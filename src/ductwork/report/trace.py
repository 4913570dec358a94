"""The run as Chrome trace events, for ``chrome://tracing`` and https://ui.perfetto.dev.

Each node that ran is a complete event (``"ph": "X"``) on the thread of its worker, with times
in microseconds from the start of the run; metadata events name the process after the run and
each thread after its worker. Skipped and interrupted nodes are listed in ``otherData``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = ["render_chrome_trace"]

_PID = 1


def _micros(seconds: float) -> float:
    return round(seconds * 1_000_000, 3)


def render_chrome_trace(journal: Mapping[str, Any]) -> str:
    """The trace-event JSON (the object form) of the run that ``journal`` describes."""
    nodes = journal["nodes"]
    ran = [n for n in nodes if n.get("started") is not None and n.get("finished") is not None]
    start = min([n["started"] for n in ran] + [journal.get("started") or float("inf")])
    threads: dict[str, int] = {}
    events: list[dict[str, Any]] = [
        {
            "name": "process_name",
            "ph": "M",
            "pid": _PID,
            "tid": 0,
            "args": {"name": f"ductwork run {journal.get('run_id')}"},
        },
    ]
    for node in sorted(ran, key=lambda n: (n["started"], n["name"])):
        worker = str(node.get("worker") or "?")
        if worker not in threads:
            threads[worker] = len(threads) + 1
            events.append(
                {
                    "name": "thread_name",
                    "ph": "M",
                    "pid": _PID,
                    "tid": threads[worker],
                    "args": {"name": worker},
                }
            )
        args: dict[str, Any] = {
            "status": node["status"],
            "inputs": node["inputs"],
            "outputs": node["outputs"],
        }
        if node.get("reason"):
            args["reason"] = node["reason"]
        if node.get("error"):
            args["error"] = f"{node['error'].get('type')}: {node['error'].get('message')}"
        events.append(
            {
                "name": node["name"],
                "cat": f"node,{node['status']}",
                "ph": "X",
                "pid": _PID,
                "tid": threads[worker],
                "ts": _micros(node["started"] - start),
                "dur": _micros(node["finished"] - node["started"]),
                "args": args,
            }
        )
    timed = {n["name"] for n in ran}
    other = {
        "run_id": journal.get("run_id"),
        "pipeline": journal.get("pipeline"),
        "runner": journal.get("runner"),
        "status": journal.get("status"),
        "not_timed": {n["name"]: n["status"] for n in nodes if n["name"] not in timed},
    }
    return json.dumps({"traceEvents": events, "displayTimeUnit": "ms", "otherData": other})

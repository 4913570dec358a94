"""How building and querying a pipeline scales: 1k, 10k and 100k nodes, two shapes.

Shapes:
    chain  n0 -> n1 -> ... (every node depends on the one before)
    fan    one source, N-2 parallel workers, one collector reading every worker's output

For each, the script times ``Pipeline(nodes)`` (build), then on that pipeline the first call of
``nodes``, ``inputs()``, ``outputs()``, ``from_nodes`` (from the middle of the chain / from the
fan's source) and ``to_outputs`` (of the middle dataset / of the collector's output). The last
column, total time divided by the size, stays flat when the cost is linear.

If ``kedro`` is importable, the same measurements are made with Kedro's classes. Every
measurement runs in a fresh child process; Kedro's are abandoned after a minute.

Usage: ``python benchmarks/bench_pipeline.py [--sizes 1000,10000,100000]``.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

SIZES = (1_000, 10_000, 100_000)
SHAPES = ("chain", "fan")
OPERATIONS = ("build", "nodes", "inputs()", "outputs()", "from_nodes", "to_outputs")
KEDRO_TIMEOUT = 60.0
OURS_TIMEOUT = 600.0


def step(x: Any) -> Any:
    """The function of every node; never called, only wired."""
    return x


def collect(*parts: Any) -> Any:
    """The fan's collector."""
    return parts


def make_nodes(node: Callable[..., Any], shape: str, size: int) -> tuple[list[Any], str, str]:
    """The nodes of one shape, a node name to slice from and a dataset to slice to."""
    if shape == "chain":
        nodes = [node(step, f"d{i}", f"d{i + 1}", name=f"n{i}") for i in range(size)]
        return nodes, f"n{size // 2}", f"d{size // 2}"
    workers = [node(step, "seed", f"part{i}", name=f"w{i}") for i in range(size - 2)]
    source = node(step, "raw", "seed", name="source")
    sink = node(collect, [f"part{i}" for i in range(size - 2)], "total", name="collector")
    return [source, *workers, sink], "source", "total"


def measure(impl: str, shape: str, size: int) -> dict[str, float]:
    """Time each operation once on a fresh pipeline (run in a child process)."""
    package = importlib.import_module("kedro.pipeline" if impl == "kedro" else "ductwork.pipeline")
    nodes, start_node, end_dataset = make_nodes(package.node, shape, size)
    timings: dict[str, float] = {}
    began = time.perf_counter()
    built = package.Pipeline(nodes)
    timings["build"] = time.perf_counter() - began
    queries: dict[str, Callable[[], object]] = {
        "nodes": lambda: built.nodes,
        "inputs()": built.inputs,
        "outputs()": built.outputs,
        "from_nodes": lambda: built.from_nodes(start_node),
        "to_outputs": lambda: built.to_outputs(end_dataset),
    }
    for name, query in queries.items():
        began = time.perf_counter()
        query()
        timings[name] = time.perf_counter() - began
    return timings


def measure_in_child(impl: str, shape: str, size: int, timeout: float) -> dict[str, float] | None:
    """The timings from a fresh interpreter, or None if it took longer than ``timeout``."""
    command = [sys.executable, __file__, "--measure", impl, shape, str(size)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=True)
    except subprocess.TimeoutExpired:
        return None
    result: dict[str, float] = json.loads(done.stdout)
    return result


def row(impl: str, shape: str, size: int, timings: dict[str, float] | None) -> str:
    """One line of the table."""
    head = f"{impl:<9}{shape:<7}{size:>8,}"
    if timings is None:
        return f"{head}  did not finish within {KEDRO_TIMEOUT:.0f} s"
    total = sum(timings.values())
    cells = "".join(f"{timings[op]:>12.4f}" for op in OPERATIONS)
    return f"{head}{cells}{total:>10.3f}{1e6 * total / size:>10.2f}"


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--measure", nargs=3, metavar=("IMPL", "SHAPE", "SIZE"))
    args = parser.parse_args()
    if args.measure:
        impl, shape, size = args.measure
        print(json.dumps(measure(impl, shape, int(size))))
        return
    impls = ["ductwork"]
    if importlib.util.find_spec("kedro") is not None:
        impls.append("kedro")
    columns = "".join(f"{op:>12}" for op in OPERATIONS)
    print("Seconds per operation (first call on a fresh pipeline), total, microseconds per node")
    print(f"{'impl':<9}{'shape':<7}{'size':>8}{columns}{'total s':>10}{'us/node':>10}")
    for shape in SHAPES:
        for impl in impls:
            gave_up = False
            for size in map(int, args.sizes.split(",")):
                if gave_up:  # a bigger size cannot finish sooner
                    print(row(impl, shape, size, None))
                    continue
                timeout = KEDRO_TIMEOUT if impl == "kedro" else OURS_TIMEOUT
                timings = measure_in_child(impl, shape, size, timeout)
                gave_up = timings is None
                print(row(impl, shape, size, timings), flush=True)


if __name__ == "__main__":
    main()

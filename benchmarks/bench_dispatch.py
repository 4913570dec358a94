"""Dispatch speed: ductwork's four runners beside Dask and Ray on the same graphs.

Prints four tables and a list of the targets of the dispatch issue, each with its figure:

1. **Overhead**, microseconds per no-op node, run start included, for a chain and a
   fan-out/fan-in of ``--sizes`` nodes (500 and 1,000): ductwork's ``SequentialRunner``,
   ``ThreadRunner`` (2 threads), ``ParallelRunner`` (2 processes) and ``DaskRunner`` (a running
   local cluster of 2 single-threaded worker processes); Dask's own schedulers on the same graph
   as a Dask task dictionary (``dask.get``, the threaded scheduler with 2 threads, and
   ``client.get`` on the same cluster); and Ray (tasks whose arguments are the object refs of
   their parents, ``ray.get`` on the last) when Ray can be imported. The cluster systems run
   only ``--dask-sizes`` (500): ductwork's Dask runner takes tens of milliseconds per node.
2. **Start-up**: ``import ductwork`` and ``ductwork run --help`` in a fresh interpreter; a
   one-node ``ParallelRunner`` run, the first of a fresh process (which starts the fork server)
   and a later one; and ``make demo``'s run (the spaceflights example on processes): how long
   after the run's start, and after the command was launched, its first node started, read from
   the run's journal.
3. **CPU-bound**: 8 equal pure-Python nodes (``--cpu-seconds`` each), every system against
   ``SequentialRunner``, best of ``--cpu-rounds`` (5).
4. **Large data**: a 4-node chain passing a ``--array-mb`` (400 MB) numpy array: time against
   ``SequentialRunner`` and peak memory as a multiple of the array (private memory of this
   process and its descendants plus ``/dev/shm``, as ``bench_parallel.py`` measures it).

ductwork, these benchmarks and the demo are compiled to bytecode first (see
:func:`compile_sources`). Every figure is the best of ``--rounds`` rounds; rounds go through
every cell in turn, so a busy minute on a shared machine slows one run of many cells rather than
every run of one.

Ray is never a dependency: install it in another environment (``python -m venv /tmp/ray &&
/tmp/ray/bin/pip install ray``) and point ``--ray-python`` (or ``$RAY_PYTHON``) at that
interpreter; the Ray cells run there, in a process of their own, and need no ductwork.

    python benchmarks/bench_dispatch.py [--sizes 500,1000] [--dask-sizes 500] [--rounds 3]
        [--only overhead,startup,cpu,memory] [--ray-python PATH]
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

# The work the parallel benchmark measures, importable by every worker.
import bench_parallel
from bench_parallel import PeakMemory, burn, checksum, increment, make_array

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "examples" / "spaceflights"
CPU_NODES = 8
SHAPES = ("chain", "fan")
DUCTWORK = ("sequential", "thread", "parallel", "dask runner")
DASK = ("dask sync", "dask threads", "dask distributed")
CLUSTER = ("dask runner", "dask distributed")  # only at --dask-sizes


# --- the work: plain functions, importable by every worker ---------------------------------------


def noop(x: Any) -> Any:
    return x


def count(*values: Any) -> int:
    return len(values)


def count_list(values: list[Any]) -> int:
    return len(values)


def timed(run: Callable[[], Any]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def calibrate(seconds: float) -> int:
    loops = 200_000
    return max(1, int(loops * seconds / min(timed(lambda: burn(0, loops)) for _ in range(3))))


# --- the same graphs for every system ------------------------------------------------------------


def ductwork_graph(shape: str, size: int) -> tuple[Any, dict[str, Any]]:
    """The pipeline of ``shape`` and the free inputs it needs besides ``d0``."""
    from ductwork.pipeline import Pipeline, node

    if shape == "chain":
        nodes = [node(noop, f"d{i}", f"d{i + 1}", name=f"n{i}") for i in range(size)]
        return Pipeline(nodes), {}
    if shape == "fan":
        middle = [node(noop, "src", f"m{i}", name=f"m{i}") for i in range(size - 2)]
        sink = node(count, [f"m{i}" for i in range(size - 2)], "out", name="sink")
        return Pipeline([node(noop, "d0", "src", name="source"), *middle, sink]), {}
    if shape == "cpu":  # size is the loop count of each node
        inputs = ["d0", "params:loops"]
        nodes = [node(burn, inputs, f"y{i}", name=f"b{i}") for i in range(CPU_NODES)]
        return Pipeline(nodes), {"params:loops": size}
    if shape == "array":  # size is the array's length
        nodes = [node(make_array, "n", "a0", name="make")]
        nodes += [node(increment, f"a{i}", f"a{i + 1}", name=f"inc{i}") for i in range(2)]
        nodes.append(node(checksum, "a2", "check", name="check"))
        return Pipeline(nodes), {"n": size}
    raise ValueError(shape)


def dask_graph(shape: str, size: int) -> tuple[dict[str, Any], list[str]]:
    graph: dict[str, Any] = {"d0": 0}
    if shape == "chain":
        graph.update({f"d{i + 1}": (noop, f"d{i}") for i in range(size)})
        return graph, [f"d{size}"]
    if shape == "fan":
        graph["src"] = (noop, "d0")
        graph.update({f"m{i}": (noop, "src") for i in range(size - 2)})
        graph["out"] = (count_list, [f"m{i}" for i in range(size - 2)])
        return graph, ["out"]
    if shape == "cpu":
        graph.update({f"y{i}": (burn, "d0", size) for i in range(CPU_NODES)})
        return graph, [f"y{i}" for i in range(CPU_NODES)]
    if shape == "array":
        graph["a0"] = (make_array, size)
        graph.update({f"a{i + 1}": (increment, f"a{i}") for i in range(2)})
        graph["check"] = (checksum, "a2")
        return graph, ["check"]
    raise ValueError(shape)


# --- the systems ---------------------------------------------------------------------------------


class Systems:
    """Runs a graph on each system; owns the local Dask cluster the cluster systems share."""

    def __init__(self, with_cluster: bool) -> None:
        self.client: Any = None
        self._cluster: Any = None
        if with_cluster:
            distributed = importlib.import_module("distributed")  # typed loosely: Any
            self._cluster = distributed.LocalCluster(
                n_workers=2, threads_per_worker=1, dashboard_address="127.0.0.1:0"
            )
            self.client = distributed.Client(self._cluster, set_as_default=False)

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self._cluster.close()

    def runner(self, system: str) -> Any:
        from ductwork.runner import DaskRunner, ParallelRunner, SequentialRunner, ThreadRunner

        if system == "sequential":
            return SequentialRunner()
        if system == "thread":
            return ThreadRunner(max_workers=2)
        if system == "parallel":
            return ParallelRunner(max_workers=2)
        if system == "dask runner":
            return DaskRunner(client=self.client)
        raise ValueError(system)

    def run(self, system: str, shape: str, size: int) -> float:
        """Seconds to run the graph ``shape`` of ``size`` on ``system``, run start included."""
        if system in DASK:
            return self._run_dask(system, *dask_graph(shape, size))
        from ductwork.io import DataCatalog, MemoryDataset

        pipeline, data = ductwork_graph(shape, size)
        catalog = DataCatalog({"d0": MemoryDataset(0)})
        for name, value in data.items():
            catalog[name] = MemoryDataset(value)
        runner = self.runner(system)
        return timed(lambda: runner.run(pipeline, catalog))

    def _run_dask(self, system: str, graph: dict[str, Any], keys: list[str]) -> float:
        if system == "dask sync":
            from dask.local import get_sync

            return timed(lambda: get_sync(graph, keys))
        if system == "dask threads":
            from dask.threaded import get

            return timed(lambda: get(graph, keys, num_workers=2))
        return timed(lambda: self.client.get(graph, keys))


def ray_python(given: str | None) -> str | None:
    if given:
        return given
    if importlib.util.find_spec("ray") is not None:
        return sys.executable
    return os.environ.get("RAY_PYTHON") or None


def ray_figures(python: str | None, cells: list[tuple[str, int]], rounds: int) -> dict[str, float]:
    """Best seconds of each ``(shape, size)`` on Ray, measured by ``python`` in a process of its
    own (Ray's start excluded, as the cluster's is for Dask)."""
    if python is None or not cells:
        return {}
    request = json.dumps({"cells": cells, "rounds": rounds})
    done = subprocess.run(
        [python, __file__, "--ray-worker", request],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if done.returncode != 0:
        print(f"(Ray failed, left out: {done.stderr.strip().splitlines()[-1:]})", file=sys.stderr)
        return {}
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def _ray_main(request: str) -> None:
    """Run in Ray's interpreter: every cell, best of the rounds; print the figures as JSON."""
    ray = importlib.import_module("ray")
    # Ray's workers may not find this folder: its functions travel by value.
    ray.cloudpickle.register_pickle_by_value(bench_parallel)
    spec = json.loads(request)
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    remote_noop, remote_count, remote_burn = map(ray.remote, (noop, count, burn))
    remote_make, remote_increment, remote_checksum = map(
        ray.remote, (make_array, increment, checksum)
    )

    def once(shape: str, size: int) -> None:
        if shape == "chain":
            ref = 0
            for _ in range(size):
                ref = remote_noop.remote(ref)
            ray.get(ref)
        elif shape == "fan":
            source = remote_noop.remote(0)
            ray.get(remote_count.remote(*(remote_noop.remote(source) for _ in range(size - 2))))
        elif shape == "cpu":
            ray.get([remote_burn.remote(0, size) for _ in range(CPU_NODES)])
        elif shape == "array":
            ref = remote_make.remote(size)
            for _ in range(2):
                ref = remote_increment.remote(ref)
            ray.get(remote_checksum.remote(ref))

    once("chain", 10)  # Ray starts its worker processes on first use
    best: dict[str, float] = {}
    for _ in range(spec["rounds"]):
        for shape, size in spec["cells"]:
            seconds = timed(partial(once, shape, size))
            key = f"{shape}-{size}"
            best[key] = min(seconds, best.get(key, seconds))
    ray.shutdown()
    print(json.dumps(best))


def best_of(rounds: int, cells: list[tuple[str, str, int]], systems: Systems) -> dict[Any, float]:
    best: dict[Any, float] = {}
    for _ in range(rounds):
        for cell in cells:
            seconds = systems.run(*cell)
            best[cell] = min(seconds, best.get(cell, seconds))
    return best


# --- the tables ----------------------------------------------------------------------------------


def overhead_table(args: argparse.Namespace, systems: Systems, found: dict[str, Any]) -> None:
    sizes = [int(s) for s in args.sizes.split(",")]
    dask_sizes = {int(s) for s in args.dask_sizes.split(",")}
    names = [s for s in (*DUCTWORK, *DASK) if s in args.systems]
    cells = [
        (system, shape, size)
        for shape in SHAPES
        for size in sizes
        for system in names
        if system not in CLUSTER or size in dask_sizes
    ]
    best = best_of(args.rounds, cells, systems)
    ray = ray_figures(
        found["ray"], [(shape, size) for shape in SHAPES for size in sizes], args.rounds
    )
    header = ["graph", *names, "ray", "dask runner / dask distributed", "parallel / ray"]
    print("\nµs per no-op node, run start included (best of rounds)")
    print(" | ".join(header))
    print(" | ".join("---" for _ in header))
    for shape in SHAPES:
        for size in sizes:
            per_node = {
                s: best[(s, shape, size)] / size * 1e6 for s in names if (s, shape, size) in best
            }
            if f"{shape}-{size}" in ray:
                per_node["ray"] = ray[f"{shape}-{size}"] / size * 1e6
            row = [f"{shape} {size:,}"] + [_cell(per_node.get(s)) for s in [*names, "ray"]]
            row.append(_ratio(per_node.get("dask runner"), per_node.get("dask distributed")))
            row.append(_ratio(per_node.get("parallel"), per_node.get("ray")))
            print(" | ".join(row), flush=True)
            found[f"overhead {shape} {size}"] = per_node


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _ratio(value: float | None, base: float | None) -> str:
    return "-" if value is None or base is None else f"{value / base:.2f}x"


def startup_table(args: argparse.Namespace, found: dict[str, Any]) -> None:
    python = sys.executable
    cli = [python, "-c", "from ductwork.cli import main; main()"]
    rounds = args.rounds
    figures = {
        "import ductwork": _best_process(rounds, [python, "-c", "import ductwork"]),
        "ductwork run --help": _best_process(rounds, [*cli, "run", "--help"]),
    }
    cold, warm = _one_node_runs(rounds)
    figures["one-node ParallelRunner run, first in a fresh process"] = cold
    figures["one-node ParallelRunner run, later in the process"] = warm
    demo = _demo_start(max(1, rounds - 1), cli)
    print("\nstart-up (best of rounds) | seconds")
    print("--- | ---")
    for what, seconds in figures.items():
        print(f"{what} | {seconds:.3f}")
    for what, seconds in demo.items():
        print(f"make demo: {what} | {seconds:.3f}")
    found.update(figures)
    found["demo"] = demo


def _best_process(rounds: int, command: list[str]) -> float:
    def once() -> None:
        subprocess.run(command, check=True, capture_output=True, cwd=ROOT)

    return min(timed(once) for _ in range(rounds))


_ONE_NODE = """
import sys, time
sys.path.insert(0, {folder!r})
from bench_dispatch import one_node_run
if __name__ == "__main__":
    print(one_node_run(), one_node_run(), one_node_run())
"""


def one_node_run() -> float:
    from ductwork.io import DataCatalog, MemoryDataset
    from ductwork.pipeline import Pipeline, node
    from ductwork.runner import ParallelRunner

    pipeline = Pipeline([node(noop, "d0", "out", name="one")])
    catalog = DataCatalog({"d0": MemoryDataset(0)})
    return timed(lambda: ParallelRunner(max_workers=2).run(pipeline, catalog))


def _one_node_runs(rounds: int) -> tuple[float, float]:
    """(first run in a fresh process, best later run), best of ``rounds`` processes."""
    script = _ONE_NODE.format(folder=str(Path(__file__).parent))
    cold, warm = [], []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "one_node.py"
        path.write_text(script)
        for _ in range(rounds):
            out = subprocess.run(
                [sys.executable, str(path)], check=True, capture_output=True, text=True
            ).stdout
            first, *later = (float(x) for x in out.split())
            cold.append(first)
            warm.append(min(later))
    return min(cold), min(warm)


def _demo_start(rounds: int, cli: list[str]) -> dict[str, float]:
    """``make demo``'s run: when its first node started, from its journal (best of rounds)."""
    best: dict[str, float] = {}
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as journals:
            launched = time.time()
            command = [*cli, "run", "--runner", "parallel", "--journal-dir", journals]
            subprocess.run(command, check=True, capture_output=True, cwd=DEMO)
            ended = time.time()
            (path,) = Path(journals).glob("*.json")
            journal = json.loads(path.read_text())
        first = min(n["started"] for n in journal["nodes"] if n.get("started"))
        figures = {
            "first node after the run's start (journal)": first - journal["started"],
            "first node after the command was launched": first - launched,
            "the run, start to end (journal)": journal["finished"] - journal["started"],
            "the command, launch to exit": ended - launched,
        }
        for what, seconds in figures.items():
            best[what] = min(seconds, best.get(what, seconds))
    return best


def cpu_table(args: argparse.Namespace, systems: Systems, found: dict[str, Any]) -> None:
    loops = calibrate(args.cpu_seconds)
    names = [s for s in (*DUCTWORK, *DASK) if s != "dask sync" and s in args.systems]
    cells = [(system, "cpu", loops) for system in ["sequential", *names]]
    best = best_of(args.cpu_rounds, list(dict.fromkeys(cells)), systems)
    ray = ray_figures(found["ray"], [("cpu", loops)], args.cpu_rounds)
    sequential = best[("sequential", "cpu", loops)]
    print(
        f"\n{CPU_NODES} CPU-bound nodes of {args.cpu_seconds:g} s, 2 workers | seconds | speed-up"
    )
    print("--- | --- | ---")
    figures = {name: best[(name, "cpu", loops)] for name in names if name != "sequential"}
    if "cpu-" + str(loops) in ray:
        figures["ray"] = ray[f"cpu-{loops}"]
    print(f"sequential | {sequential:.2f} | 1.00x")
    for name, seconds in figures.items():
        print(f"{name} | {seconds:.2f} | {sequential / seconds:.2f}x", flush=True)
    found["cpu"] = {name: sequential / seconds for name, seconds in figures.items()}


def memory_table(args: argparse.Namespace, systems: Systems, found: dict[str, Any]) -> None:
    array_bytes = args.array_mb * 2**20
    length = array_bytes // 8
    names = ["sequential", "thread", "parallel", "dask runner", "dask distributed"]
    names = [name for name in names if name == "sequential" or name in args.systems]
    best: dict[str, tuple[float, int]] = {}
    for _ in range(args.memory_rounds):
        for name in names:
            with PeakMemory() as memory:
                seconds = systems.run(name, "array", length)
            old = best.get(name, (seconds, memory.peak))
            best[name] = (min(seconds, old[0]), min(memory.peak, old[1]))
    base = best["sequential"][0]
    print(f"\n{args.array_mb} MB array, 4-node chain | seconds | vs sequential | peak memory")
    print("--- | --- | --- | ---")
    for name, (seconds, peak) in best.items():
        print(
            f"{name} | {seconds:.2f} | {seconds / base:.2f}x | {peak / array_bytes:.2f}x "
            f"({peak / 2**20:,.0f} MB)",
            flush=True,
        )
    found["memory"] = {n: (s / base, p / array_bytes) for n, (s, p) in best.items()}


def targets(found: dict[str, Any], sizes: list[int]) -> None:
    """The issue's targets, each with the figure of this run."""
    lines: list[tuple[str, str, bool | None]] = []

    def check(what: str, text: str, holds: bool | None) -> None:
        lines.append((what, text, holds))

    for shape in SHAPES:
        cell = found.get(f"overhead {shape} 500", {})
        if "dask runner" in cell and "dask distributed" in cell:
            ratio = cell["dask runner"] / cell["dask distributed"]
            check(
                f"DaskRunner <= 1.25x Dask's client.get, {shape} 500",
                f"{ratio:.2f}x",
                ratio <= 1.25,
            )
    for shape, limit in (("fan", 200), ("chain", 300)):
        cell = found.get(f"overhead {shape} 1000", {})
        if "parallel" in cell:
            us = cell["parallel"]
            check(f"ParallelRunner <= {limit} µs/node, {shape} 1,000", f"{us:,.0f} µs", us <= limit)
            if "ray" in cell:
                check(
                    f"ParallelRunner <= Ray, {shape} 1,000",
                    f"{us / cell['ray']:.2f}x Ray",
                    us <= cell["ray"],
                )
    cold = found.get("one-node ParallelRunner run, first in a fresh process")
    if cold is not None:
        warm = found["one-node ParallelRunner run, later in the process"]
        text = f"{cold:.3f} s (a later run in the process: {warm:.3f} s)"
        check("one-node ParallelRunner run, first in a process, <= 0.1 s", text, cold <= 0.1)
    demo = found.get("demo", {}).get("first node after the run's start (journal)")
    if demo is not None:
        check("make demo: first node <= 0.3 s after the run's start", f"{demo:.3f} s", demo <= 0.3)
    speed = found.get("cpu", {}).get("parallel")
    if speed is not None:
        check("8 CPU-bound nodes on 2 processes >= 1.8x sequential", f"{speed:.2f}x", speed >= 1.8)
    memory = found.get("memory", {}).get("parallel")
    if memory is not None:
        check("400 MB chain on processes <= 1.5x sequential", f"{memory[0]:.2f}x", memory[0] <= 1.5)
        check("400 MB chain on processes: peak < 3x the array", f"{memory[1]:.2f}x", memory[1] < 3)
    print("\ntarget | this run | holds")
    print("--- | --- | ---")
    for what, text, holds in lines:
        print(f"{what} | {text} | {'yes' if holds else 'no'}")


@contextmanager
def quiet() -> Iterator[None]:
    logging.disable(logging.WARNING)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)


def compile_sources() -> None:
    """Write the bytecode of ductwork, these benchmarks and the demo, as an installed package has.

    Where ``PYTHONDONTWRITEBYTECODE`` is set (this environment sets it), nothing writes it, and
    every worker process would compile the modules it imports from source on every run: about
    0.2 s per run here, which no installed package pays.
    """
    import compileall

    import ductwork

    for folder in (Path(ductwork.__file__).parent, Path(__file__).parent, DEMO):
        compileall.compile_dir(str(folder), quiet=1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="500,1000")
    parser.add_argument("--dask-sizes", default="500")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cpu-seconds", type=float, default=0.25, help="per CPU-bound node")
    parser.add_argument("--cpu-rounds", type=int, default=5)
    parser.add_argument("--array-mb", type=int, default=400)
    parser.add_argument("--memory-rounds", type=int, default=2)
    parser.add_argument("--only", default="overhead,startup,cpu,memory")
    parser.add_argument(
        "--systems",
        type=lambda text: text.split(","),
        default=[*DUCTWORK, *DASK, "ray"],
        help="comma-separated; the CPU and memory tables always have sequential",
    )
    parser.add_argument("--ray-python", default=None, help="an interpreter that imports ray")
    parser.add_argument("--ray-worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.ray_worker is not None:
        _ray_main(args.ray_worker)
        return
    parts = set(args.only.split(","))
    compile_sources()
    found: dict[str, Any] = {"ray": ray_python(args.ray_python)}
    print(
        f"Shared machine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} at start."
    )
    if found["ray"] is None:
        print("Ray is not importable here (set --ray-python or $RAY_PYTHON): its column is empty.")
    with quiet():
        cluster = bool(parts & {"overhead", "cpu", "memory"}) and bool(
            set(CLUSTER) & set(args.systems)
        )
        systems = Systems(with_cluster=cluster)
        try:
            if "overhead" in parts:
                overhead_table(args, systems, found)
            if "cpu" in parts:
                cpu_table(args, systems, found)
            if "memory" in parts:
                memory_table(args, systems, found)
        finally:
            systems.close()
        if "startup" in parts:
            startup_table(args, found)
    targets(found, [int(s) for s in args.sizes.split(",")])
    print(f"\nLoad average {os.getloadavg()[0]:.1f} at the end.")


if __name__ == "__main__":
    main()

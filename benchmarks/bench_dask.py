"""DaskRunner figures: overhead per node, per-run set-up, and CPU-bound speed-up.

Prints three tables:

1. microseconds per no-op node, chain and fan-out/fan-in, for SequentialRunner and for
   DaskRunner on an already running local cluster of worker processes (best of ``--repeat``);
2. what a run costs beyond its nodes: connecting to a running cluster and sending the run's
   plugin, and starting and closing the embedded cluster (``DaskRunner()`` with no arguments),
   and what sending the run's datasets with every task instead would cost;
3. ``--cpu-nodes`` equal CPU-bound nodes, SequentialRunner against DaskRunner on a cluster of
   one single-threaded worker process per core.

    python benchmarks/bench_dask.py [--sizes 1000] [--repeat 3] [--cpu-nodes 8]
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from collections.abc import Callable
from typing import Any

from distributed import Client, LocalCluster

from bench_runners import build
from ductwork.io import DataCatalog, MemoryDataset
from ductwork.pipeline import Pipeline, node
from ductwork.runner import AbstractRunner, DaskRunner, SequentialRunner

CPU_LOOP = 6_000_000


def burn(x: int) -> int:
    """About half a second of pure-Python work on this machine; holds the GIL throughout."""
    total = 0
    for i in range(CPU_LOOP):
        total += i % 7
    return x + total % 2


def timed(run: Callable[[], Any]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def best_of(repeat: int, make_runner: Callable[[], AbstractRunner], pipeline: Pipeline) -> float:
    def once() -> None:
        make_runner().run(pipeline, DataCatalog({"d0": MemoryDataset(0)}))

    return min(timed(once) for _ in range(repeat))


def overhead_table(client: Client, sizes: list[int], repeat: int) -> None:
    runners: dict[str, Callable[[], AbstractRunner]] = {
        "sequential": SequentialRunner,
        "dask (2 worker processes)": lambda: DaskRunner(client=client),
    }
    print("runner | shape | nodes | µs/node")
    print("--- | --- | --- | ---")
    for name, make_runner in runners.items():
        for shape in ("chain", "fan"):
            for size in sizes:
                seconds = best_of(repeat, make_runner, build("ductwork", shape, size))
                print(f"{name} | {shape} | {size:,} | {seconds / size * 1e6:,.0f}", flush=True)


def setup_table(client: Client, repeat: int) -> None:
    one = Pipeline([node(str, "d0", "out", name="one")])
    on_client = best_of(repeat, lambda: DaskRunner(client=client), one)
    embedded = best_of(1, lambda: DaskRunner(n_workers=2), one)
    print()
    print("one-node run | seconds")
    print("--- | ---")
    print(f"on a running cluster (plugin sent and removed) | {on_client:.3f}")
    print(f"embedded cluster started and closed by the run | {embedded:.3f}")


def shipping_table(client: Client, datasets: int, repeat: int) -> None:
    """Sending the run's datasets and plugins once per run (a worker plugin) or with each task."""
    import pickle
    import tempfile

    from ductwork.datasets import PickleDataset
    from ductwork.execution import NodeShell
    from ductwork.runner._dask.worker import RunPlugin, WorkerRun

    folder = tempfile.gettempdir()
    shipped = {f"d{i}": PickleDataset(filepath=f"{folder}/d{i}.pkl") for i in range(datasets)}
    shell = NodeShell("run")
    run = WorkerRun(shell, {}, dict(shipped), {"params:alpha": 0.5})
    # The alternative sends each task only its node's datasets (say three) and the plugins.
    own = WorkerRun(shell, {}, dict(list(shipped.items())[:3]), {"params:alpha": 0.5})
    size = len(pickle.dumps(run))
    per_task = min(timed(lambda: pickle.loads(pickle.dumps(own))) for _ in range(repeat))

    def register() -> None:
        client.register_plugin(RunPlugin(run, "bench"))
        client.unregister_worker_plugin("bench")

    once = min(timed(register) for _ in range(repeat))
    print()
    print(f"shipping {datasets} persisted datasets | cost")
    print("--- | ---")
    print(f"all of them, pickled | {size:,} bytes")
    print(f"with each task (its node's 3): pickle + unpickle | {per_task * 1e6:,.0f} µs per task")
    print(f"once per run (all): worker plugin sent and removed, 2 workers | {once * 1e3:,.1f} ms")


def cpu_table(cpu_nodes: int) -> None:
    pipeline = Pipeline([node(burn, "d0", f"out{i}", name=f"burn{i}") for i in range(cpu_nodes)])
    cores = os.cpu_count() or 1
    sequential = best_of(1, SequentialRunner, pipeline)
    with (
        LocalCluster(n_workers=cores, threads_per_worker=1, dashboard_address="127.0.0.1:0") as lc,
        Client(lc, set_as_default=False) as client,
    ):
        dask = best_of(1, lambda: DaskRunner(client=client), pipeline)
    print()
    print(f"{cpu_nodes} CPU-bound nodes on {cores} cores | seconds | speed-up")
    print("--- | --- | ---")
    print(f"SequentialRunner | {sequential:.2f} | 1.00")
    print(f"DaskRunner ({cores} worker processes) | {dask:.2f} | {sequential / dask:.2f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cpu-nodes", type=int, default=8)
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)
    sizes = [int(size) for size in args.sizes.split(",")]
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address="127.0.0.1:0") as lc,
        Client(lc, set_as_default=False) as client,
    ):
        overhead_table(client, sizes, args.repeat)
        setup_table(client, args.repeat)
        shipping_table(client, 100, args.repeat)
    cpu_table(args.cpu_nodes)


if __name__ == "__main__":
    main()

"""ParallelRunner figures, with Kedro's beside ours when Kedro is importable.

Three measurements, each printed as a table row:

1. Overhead: a chain of no-op nodes (500 by default), milliseconds per node, worker start-up
   included. Kedro's process runner pickles the whole catalog with every task, so it runs a
   shorter chain (``--kedro-nodes``) and its figure is per node at that length.
2. CPU-bound speed-up: 8 equal pure-Python nodes on ``--workers`` processes, against
   ``SequentialRunner`` on the same pipeline. Best of ``--repeat`` runs each: on a shared
   machine the slower runs measure the neighbours.
3. Large data: a chain of 4 nodes passing a numpy array (400 MB by default): wall time against
   ``SequentialRunner``, and peak memory as a multiple of the array. Memory is sampled every few
   milliseconds by a thread, as the private (anonymous) resident memory of this process and all
   its descendants plus what is allocated in ``/dev/shm``. Plain RSS would count a shared-memory
   page once per process that maps it, and again in ``/dev/shm``; counting private memory and
   shared memory apart counts each page once. The baseline before the run is subtracted.

    python benchmarks/bench_parallel.py [--nodes 500] [--array-mb 400] [--workers 2]

Kedro is never a dependency of ductwork: install ``kedro==1.1.0`` in a separate environment
together with ductwork to compare.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from bench_runners import kedro_available

CPU_NODES = 8


def noop(x: Any) -> Any:
    return x


def burn(x: Any, loops: int) -> int:
    total = 0
    for i in range(loops):
        total += i * i % 7
    return total + len(str(x))


def make_array(n: int) -> Any:
    import numpy as np

    return np.ones(n)


def increment(a: Any) -> Any:
    return a + 1


def checksum(a: Any) -> float:
    return float(a[0] + a[-1])


# --- building pipelines, catalogs and runners for either library -------------------------------


def _modules(lib: str) -> tuple[Any, Any, Any]:
    names = ("pipeline", "io", "runner")
    pipeline, io, runner = (importlib.import_module(f"{lib}.{name}") for name in names)
    return pipeline, io, runner


def catalog_of(lib: str, runner: str, data: dict[str, Any]) -> Any:
    io = _modules(lib)[1]
    parallel = runner == "parallel"
    catalog_class = io.SharedMemoryDataCatalog if parallel and lib == "kedro" else io.DataCatalog
    return catalog_class({name: io.MemoryDataset(value) for name, value in data.items()})


def runner_of(lib: str, runner: str, workers: int) -> Any:
    module = _modules(lib)[2]
    if runner == "sequential":
        return module.SequentialRunner()
    return module.ParallelRunner(max_workers=workers)


def chain(lib: str, size: int) -> Any:
    pipeline = _modules(lib)[0]
    nodes = [pipeline.node(noop, f"d{i}", f"d{i + 1}", name=f"n{i}") for i in range(size)]
    return pipeline.pipeline(nodes)


def cpu_fan(lib: str) -> Any:
    pipeline = _modules(lib)[0]
    nodes = [
        pipeline.node(burn, ["x", "params:loops"], f"y{i}", name=f"burn{i}")
        for i in range(CPU_NODES)
    ]
    return pipeline.pipeline(nodes)


def array_chain(lib: str) -> Any:
    pipeline = _modules(lib)[0]
    nodes = [pipeline.node(make_array, "n", "a0", name="make")]
    nodes += [pipeline.node(increment, f"a{i}", f"a{i + 1}", name=f"inc{i}") for i in range(2)]
    nodes.append(pipeline.node(checksum, "a2", "check", name="check"))
    return pipeline.pipeline(nodes)


def timed(run: Callable[[], Any]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


# --- memory ----------------------------------------------------------------------------------


def _private_bytes(process: Any) -> int:
    info = process.memory_info()
    return int(info.rss - getattr(info, "shared", 0))


def _shm_bytes() -> int:
    try:
        stat = os.statvfs("/dev/shm")
    except OSError:
        return 0
    return (stat.f_blocks - stat.f_bfree) * stat.f_frsize


def memory_now() -> int:
    """Private memory of this process and its descendants, plus /dev/shm in use."""
    import psutil

    me = psutil.Process()
    total = _shm_bytes()
    for process in [me, *me.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):  # it may have exited meanwhile
            total += _private_bytes(process)
    return total


class PeakMemory:
    """Samples :func:`memory_now` on a thread; ``peak`` is the largest rise over the start."""

    def __init__(self, interval: float = 0.005) -> None:
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self.baseline = 0
        self.peak = 0

    def _sample(self) -> None:
        while not self._stop.wait(self._interval):
            self.peak = max(self.peak, memory_now() - self.baseline)

    def __enter__(self) -> PeakMemory:
        self.baseline = memory_now()
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()


# --- the three measurements --------------------------------------------------------------------


def overhead(lib: str, size: int, workers: int) -> float:
    """Milliseconds per node of a chain of ``size`` no-op nodes (start-up included)."""
    seconds = timed(
        lambda: runner_of(lib, "parallel", workers).run(
            chain(lib, size), catalog_of(lib, "parallel", {"d0": 0})
        )
    )
    return seconds / size * 1000


def calibrate(target_seconds: float) -> int:
    loops = 200_000
    seconds = timed(lambda: burn(0, loops))
    return max(1, int(loops * target_seconds / seconds))


def cpu_bound(lib: str, runner: str, workers: int, loops: int) -> float:
    catalog = catalog_of(lib, runner, {"x": 1, "params:loops": loops})
    return timed(lambda: runner_of(lib, runner, workers).run(cpu_fan(lib), catalog))


def big_array(lib: str, runner: str, workers: int, megabytes: int) -> tuple[float, int]:
    catalog = catalog_of(lib, runner, {"n": megabytes * 1024 * 1024 // 8})
    instance = runner_of(lib, runner, workers)
    with PeakMemory() as memory:
        seconds = timed(lambda: instance.run(array_chain(lib), catalog))
    return seconds, memory.peak


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=500)
    parser.add_argument("--kedro-nodes", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cpu-seconds", type=float, default=1.0, help="per CPU-bound node")
    parser.add_argument("--array-mb", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=3, help="CPU-bound runs; the best counts")
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)
    libs = ["ductwork"] + (["kedro"] if kedro_available() else [])
    print("measurement | target | " + " | ".join(libs))
    print("--- | --- | " + " | ".join("---" for _ in libs))

    cold = overhead("ductwork", args.nodes, args.workers)  # the first run starts the fork server
    cells = [f"{overhead('ductwork', args.nodes, args.workers):.2f} ms/node ({args.nodes} nodes)"]
    if "kedro" in libs:
        size = args.kedro_nodes
        overhead("kedro", 1, args.workers)
        cells.append(f"{overhead('kedro', size, args.workers):.2f} ms/node ({size} nodes)")
    print("no-op chain, per node | <= 2 ms | " + " | ".join(cells), flush=True)

    loops = calibrate(args.cpu_seconds)
    sequential = min(cpu_bound("ductwork", "sequential", 1, loops) for _ in range(args.repeat))
    cells = []
    for lib in libs:
        seconds = min(cpu_bound(lib, "parallel", args.workers, loops) for _ in range(args.repeat))
        cells.append(f"{sequential / seconds:.2f}x ({seconds:.1f} s vs {sequential:.1f} s)")
    print(
        f"{CPU_NODES} CPU-bound nodes, {args.workers} workers | >= 1.8x | " + " | ".join(cells),
        flush=True,
    )

    array_bytes = args.array_mb * 1024 * 1024
    base_seconds, base_peak = big_array("ductwork", "sequential", 1, args.array_mb)
    times, peaks = [], []
    for lib in libs:
        seconds, peak = big_array(lib, "parallel", args.workers, args.array_mb)
        times.append(f"{seconds / base_seconds:.2f}x ({seconds:.1f} s vs {base_seconds:.1f} s)")
        peaks.append(f"{peak / array_bytes:.2f}x ({peak / 2**20:.0f} MB)")
    print(f"{args.array_mb} MB array, 4-node chain: time | <= 1.5x | " + " | ".join(times))
    print(f"{args.array_mb} MB array, 4-node chain: peak memory | < 3x | " + " | ".join(peaks))
    print(
        f"\nThe first run of a process also starts the fork server: {cold:.2f} ms/node then.\n"
        f"SequentialRunner on the array chain: peak {base_peak / array_bytes:.2f}x the array, "
        f"{base_seconds:.1f} s."
    )


if __name__ == "__main__":
    main()

"""Per-node overhead of each runner on pipelines of no-op nodes, and ThreadRunner concurrency.

Prints a table of microseconds per node for chains and fan-out/fan-in pipelines at 1k, 10k and
100k nodes, and, when Kedro is importable in the same environment, Kedro's figure beside ours
(only at sizes Kedro is expected to finish within a minute: its loop is quadratic). The
process runner runs only ``--parallel-sizes`` (500 nodes) and without Kedro, whose process runner
takes about 80 ms per node: ``bench_parallel.py`` compares the two. Each figure
is the best of ``--repeat`` rounds over all cells: on a shared machine the slower runs measure
the neighbours.

    python benchmarks/bench_runners.py [--sizes 1000,10000,100000] [--runners sequential,thread]
        [--parallel-sizes 500] [--journal] [--plugins] [--cpu]

``--journal`` adds two columns: the same runs with the run journal as observer (it measures
each node), and with its dataset hooks registered as well (they time every load and save), as
``ductwork run`` runs them. ``--plugins`` adds two more: the runs with one, then two, no-op
plugins implementing every node and dataset hook (seven calls a node; with one plugin each
hook has one plain implementation, which ductwork calls directly, with two every call goes
through pluggy). ``--cpu`` measures the CPU time of the process (all its threads) instead of
wall-clock time: on a busy machine it moves far less between rounds.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import tempfile
import time
from typing import Any

KEDRO_BUDGET_SECONDS = 60.0
# What time_run measures: wall-clock time, or with --cpu the CPU time of this process (all its
# threads), which the other jobs of a shared machine disturb much less.
CLOCK = [time.perf_counter]


def noop(x: Any) -> Any:
    return x


def gather(*values: Any) -> int:
    return len(values)


def sleep_50ms(x: Any) -> Any:
    time.sleep(0.05)
    return x


def build(lib: str, shape: str, size: int) -> Any:
    pipeline_mod = importlib.import_module(f"{lib}.pipeline")
    node, pipeline = pipeline_mod.node, pipeline_mod.Pipeline
    if shape == "chain":
        nodes = [node(noop, f"d{i}", f"d{i + 1}", name=f"n{i}") for i in range(size)]
    else:
        middle = size - 2
        nodes = [node(noop, "d0", "src", name="source")]
        nodes += [node(noop, "src", f"m{i}", name=f"m{i}") for i in range(middle)]
        nodes.append(node(gather, [f"m{i}" for i in range(middle)], "out", name="sink"))
    return pipeline(nodes)


def runner_of(lib: str, name: str) -> Any:
    runner_mod = importlib.import_module(f"{lib}.runner")
    if name == "sequential":
        return runner_mod.SequentialRunner()
    if name == "thread":
        return runner_mod.ThreadRunner(max_workers=2)
    if name == "parallel":
        return runner_mod.ParallelRunner(max_workers=2)
    raise ValueError(name)


def catalog_of(lib: str, parallel: bool) -> Any:
    io = importlib.import_module(f"{lib}.io")
    catalog_cls = io.SharedMemoryDataCatalog if parallel and lib == "kedro" else io.DataCatalog
    return catalog_cls({"d0": io.MemoryDataset(0)})


def no_op_hooks() -> object:
    """A plugin implementing every node and dataset hook, doing nothing (``--plugins``)."""
    from ductwork.hooks import hook_impl

    class NoOpHooks:
        @hook_impl
        def before_node_run(self, node: Any) -> None:
            pass

        @hook_impl
        def after_node_run(self, node: Any) -> None:
            pass

        @hook_impl
        def on_node_error(self, node: Any) -> None:
            pass

        @hook_impl
        def before_dataset_loaded(self, node: Any) -> None:
            pass

        @hook_impl
        def after_dataset_loaded(self, node: Any) -> None:
            pass

        @hook_impl
        def before_dataset_saved(self, node: Any) -> None:
            pass

        @hook_impl
        def after_dataset_saved(self, node: Any) -> None:
            pass

    return NoOpHooks()


def time_run(lib: str, runner: str, shape: str, size: int, journal: str = "off") -> float:
    """Seconds to run; ``journal``: ``off``, ``on`` (the journal observes and measures each
    node), ``io`` (and its dataset hooks time every load and save, as ``ductwork run``), or
    ``plugins1`` / ``plugins2`` (no journal; one or two :func:`no_op_hooks` registered)."""
    pipeline = build(lib, shape, size)
    catalog = catalog_of(lib, runner == "parallel")
    instance = runner_of(lib, runner)
    if journal in ("off", "plugins1", "plugins2"):
        from ductwork.hooks import create_hook_manager

        count = 0 if journal == "off" else int(journal[-1])
        manager = create_hook_manager(*(no_op_hooks() for _ in range(count))) if count else None
        started = CLOCK[0]()
        instance.run(pipeline, catalog, manager)
        return CLOCK[0]() - started
    from ductwork.hooks import create_hook_manager
    from ductwork.report import RunJournal

    with tempfile.TemporaryDirectory() as folder:
        hooks = create_hook_manager()
        started = CLOCK[0]()
        with RunJournal(folder, pipeline) as observer:
            if journal == "io":
                hooks.register(observer.hooks)
            instance.run(pipeline, catalog, hooks, observer=observer)
        return CLOCK[0]() - started


def kedro_available() -> bool:
    try:
        importlib.import_module("kedro.runner")
    except ImportError:
        return False
    return True


def best_times(
    repeat: int, cells: list[tuple[str, str, int]], journal: str = "off"
) -> dict[tuple[str, str, int], float]:
    """The best time of each (runner, shape, size) over ``repeat`` rounds.

    Rounds go through every cell in turn rather than repeating one cell back to back, so that
    each cell's runs are spread over the whole benchmark: a minute when the host is busy slows
    one run of many cells instead of every run of one.
    """
    best: dict[tuple[str, str, int], float] = {}
    for _ in range(repeat):
        for cell in cells:
            seconds = time_run("ductwork", *cell, journal=journal)
            best[cell] = min(seconds, best.get(cell, seconds))
    return best


def kedro_cell(runner: str, shape: str, size: int, kedro_1k: dict[Any, float]) -> str:
    if runner == "parallel":
        return f"{'(skipped)':>10}"
    base = kedro_1k.get((runner, shape))
    # Quadratic: estimate from the 1k figure before trying a larger size.
    if base is not None and base * (size / 1000) ** 2 > KEDRO_BUDGET_SECONDS:
        return f"{'(skipped)':>10}"
    seconds = time_run("kedro", runner, shape, size)
    if size == 1000:
        kedro_1k[(runner, shape)] = seconds
    return f"{seconds / size * 1e6:10.1f}"


def concurrency_check() -> str:
    io = importlib.import_module("ductwork.io")
    pipeline_mod = importlib.import_module("ductwork.pipeline")
    runner_mod = importlib.import_module("ductwork.runner")
    nodes = [pipeline_mod.node(sleep_50ms, "x", f"o{i}", name=f"s{i}") for i in range(64)]
    catalog = io.DataCatalog({"x": io.MemoryDataset(0)})
    started = time.perf_counter()
    runner_mod.ThreadRunner(max_workers=16).run(pipeline_mod.Pipeline(nodes), catalog)
    elapsed = time.perf_counter() - started
    return (
        "64 nodes x 50 ms sleep, ThreadRunner(max_workers=16): "
        f"{elapsed:.3f} s (ideal 0.200 s, {elapsed / 0.2 - 1:+.1%})"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--runners", default="sequential,thread,parallel")
    parser.add_argument("--parallel-sizes", default="500")
    parser.add_argument("--shapes", default="chain,fan")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--journal",
        action="store_true",
        help="also time each run with the run journal on, and with its dataset hooks too",
    )
    parser.add_argument(
        "--plugins",
        action="store_true",
        help="also time each run with one, then two, no-op plugins on every node hook",
    )
    parser.add_argument(
        "--cpu",
        action="store_true",
        help="measure the process's CPU time instead of wall-clock time (a busy machine)",
    )
    args = parser.parse_args(argv)
    if args.cpu:
        CLOCK[0] = time.process_time
    logging.disable(logging.WARNING)
    with_kedro = kedro_available()
    header = ["runner", "shape", "nodes", "ductwork µs/node"] + (
        ["kedro µs/node"] if with_kedro else []
    )
    if args.journal:
        header += ["journal on µs/node", "journal + I/O hooks µs/node"]
    if args.plugins:
        header += ["1 no-op plugin µs/node", "2 no-op plugins µs/node"]
    print(" | ".join(header))
    print(" | ".join("---" for _ in header))
    cells = [
        (runner, shape, int(size))
        for runner in args.runners.split(",")
        for shape in args.shapes.split(",")
        for size in (args.parallel_sizes if runner == "parallel" else args.sizes).split(",")
    ]
    best = best_times(args.repeat, cells)
    modes = [*(("on", "io") if args.journal else ()), *(("plugins1", "plugins2") * args.plugins)]
    journaled = [best_times(args.repeat, cells, mode) for mode in modes]
    kedro_1k: dict[Any, float] = {}
    for cell in cells:
        runner, shape, size = cell
        row = [runner, shape, f"{size:,}", f"{best[cell] / size * 1e6:10.1f}"]
        if with_kedro:
            row.append(kedro_cell(runner, shape, size, kedro_1k))
        row += [f"{times[cell] / size * 1e6:10.1f}" for times in journaled]
        print(" | ".join(row), flush=True)
    print()
    print(concurrency_check())


if __name__ == "__main__":
    main()

"""Incremental runs: what skipping costs, what hashing costs, and what ``--incremental`` adds.

Prints one table:

- a 1,000-node project re-run with nothing changed (``ductwork run --incremental``, the whole
  command, start-up included), beside the command's bare start-up (``ductwork --version``);
- a re-run after touching (not changing) ``--touch-gb`` GB of input files (sparse files when
  the disk is short): the files are hashed once to confirm they did not change, no node runs,
  and the run after that reads nothing at all (bytes hashed are counted);
- cold hashing speed of a 1 GiB numpy array and of a 1 GiB file of random bytes, per core;
- ``--incremental`` on the spaceflights example when every node misses (a fresh store), beside
  the same run without it.

Figures are the best of ``--rounds`` rounds (the machine is shared: slower rounds measure the
neighbours).

    python benchmarks/bench_incremental.py [--rounds 3] [--touch-gb 10] [--skip-spaceflights]
        [--parts nodes,touched,hashing,spaceflights]
        [--hamilton-python /path/to/venv-with-sf-hamilton/bin/python]

With ``--hamilton-python``, the spaceflights pipeline also runs in one process, on ductwork
(plain, incremental with an empty store, incremental re-run) and on Hamilton (no cache, cache
empty, cache warm with a freshly built driver), from ``hamilton_spaceflights.py``.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ductwork.io import AbstractDataset

ROOT = Path(__file__).resolve().parent.parent
GIB = 1 << 30

PROJECT = """
from ductwork.pipeline import Pipeline, node


def step(x, k):
    return x + k


def make_pipeline(size=1000):
    nodes = [node(step, ["d0", "params:k"], "d1", name="n0")]
    nodes += [node(step, [f"d{i}", "params:k"], f"d{i + 1}", name=f"n{i}") for i in range(1, size)]
    return Pipeline(nodes)


pipeline = make_pipeline()
"""


# As a user's machine has them: compiled modules cached (this workplace turns that off).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def best_command(rounds: int, action: Callable[[], object]) -> tuple[float, float]:
    """Best wall time and best CPU time (user + system) of a command, over rounds."""
    walls, cpus = [], []
    for _ in range(rounds):
        cpu, began = cpu_of_children(), time.perf_counter()
        action()
        walls.append(time.perf_counter() - began)
        cpus.append(cpu_of_children() - cpu)
    return min(walls), min(cpus)


def best(rounds: int, action: Callable[[], object]) -> float:
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        action()
        times.append(time.perf_counter() - began)
    return min(times)


def ductwork(cwd: Path, *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "ductwork.cli", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        timeout=1800,
        env=ENV,
    )


def thousand_nodes(rounds: int) -> list[tuple[str, str]]:
    with tempfile.TemporaryDirectory() as folder:
        here = Path(folder)
        (here / "proj.py").write_text(textwrap.dedent(PROJECT))
        # Every tenth dataset persisted, the rest in memory, the source a file.
        entries = ["d0: {type: PickleDataset, filepath: data/d0.pkl}"]
        entries += [
            f"d{i}: {{type: PickleDataset, filepath: data/d{i}.pkl}}" for i in range(10, 1001, 10)
        ]
        (here / "catalog.yml").write_text("\n".join(entries) + "\n")
        (here / "params.yml").write_text("k: 1\n")
        (here / "data").mkdir()
        import pickle

        (here / "data" / "d0.pkl").write_bytes(pickle.dumps(0))
        args = ["run", "proj:pipeline", "--catalog", "catalog.yml", "--params", "params.yml", "-q"]
        ductwork(here, "--version")  # compile ductwork's modules once, as an install does
        first = best_command(1, lambda: ductwork(here, *args, "--incremental"))
        ductwork(here, *args, "--incremental")
        again = best_command(rounds, lambda: ductwork(here, *args, "--incremental"))
        bare = best_command(rounds, lambda: ductwork(here, "--version"))
        return [
            ("1,000 nodes, first run (all miss), whole command", _wall_cpu(first)),
            ("1,000 nodes, re-run with nothing changed, whole command", _wall_cpu(again)),
            ("  of which the command's start-up (ductwork --version)", _wall_cpu(bare)),
        ]


def _wall_cpu(times: tuple[float, float]) -> str:
    return f"{times[0]:.2f} s wall, {times[1]:.2f} s CPU"


def touched_inputs(gigabytes: int) -> list[tuple[str, str]]:
    from ductwork.datasets import PickleDataset
    from ductwork.incremental import run_incremental
    from ductwork.io import DataCatalog
    from ductwork.pipeline import Pipeline, node
    from ductwork.runner import SequentialRunner

    with tempfile.TemporaryDirectory() as folder:
        here = Path(folder)
        files = []
        for number in range(gigabytes):
            path = here / f"input{number}.bin"
            with open(path, "wb") as stream:
                stream.truncate(GIB)  # sparse: no disk used
            files.append(path)
        catalog = DataCatalog(
            {
                f"size{n}": PickleDataset(filepath=str(here / f"size{n}.pkl"))
                for n in range(gigabytes)
            }
        )
        for number, path in enumerate(files):
            catalog[f"input{number}"] = FileSize(str(path))
        pipeline = Pipeline(
            [node(_identity, f"input{n}", f"size{n}", name=f"n{n}") for n in range(gigabytes)]
        )
        store = here / "cache.sqlite"
        runner = SequentialRunner()

        def run() -> tuple[float, int, int]:
            began = time.perf_counter()
            result = run_incremental(runner, pipeline, catalog, store=store)
            took = time.perf_counter() - began
            return took, result.planner.files.bytes_hashed, len(result.ran)

        # The nodes read only the files' sizes, so the first run's time is the hashing.
        first = run()
        for path in files:
            path.touch()
        touched = run()
        untouched = run()
        return [
            (
                f"{gigabytes} GB of inputs, first run: hashed",
                f"{first[1] / 1e9:.1f} GB in {first[0]:.1f} s "
                f"({first[1] / 1e9 / first[0]:.1f} GB/s)",
            ),
            (
                f"{gigabytes} GB touched, re-run: nodes run / bytes hashed",
                f"{touched[2]} / {touched[1] / 1e9:.1f} GB, {touched[0]:.1f} s",
            ),
            (
                f"{gigabytes} GB untouched, re-run: nodes run / bytes hashed",
                f"{untouched[2]} / {untouched[1]} B, {untouched[0]:.3f} s",
            ),
        ]


def _identity(size: int) -> int:
    return size


class FileSize(AbstractDataset[None, int]):
    """A file whose load gives only its size (the node never reads the content)."""

    def __init__(self, filepath: str) -> None:
        self._filepath = filepath

    def load(self) -> int:
        return os.path.getsize(self._filepath)

    def save(self, data: None) -> None:
        raise NotImplementedError("read only")

    def _describe(self) -> dict[str, Any]:
        return {"filepath": self._filepath}


def cold_hashing(rounds: int) -> list[tuple[str, str]]:
    import numpy as np

    from ductwork.incremental.files import FileIdentities
    from ductwork.incremental.store import Store
    from ductwork.incremental.values import hash_value

    array = np.random.default_rng(0).random(GIB // 8)
    array_time = best(rounds, lambda: hash_value(array))
    array = np.empty(0)  # free the GiB before writing the file
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "random.bin"
        with open(path, "wb") as stream:
            for _ in range(GIB // (64 << 20)):
                stream.write(os.urandom(64 << 20))
        with Store(Path(folder) / "c.sqlite") as store:

            def hash_file() -> None:
                FileIdentities(store)._hash_file(str(path), GIB)

            file_time = best(rounds, hash_file)
    return [
        ("cold hash, 1 GiB numpy array (one core)", f"{GIB / 1e9 / array_time:.1f} GB/s"),
        ("cold hash, 1 GiB file (one core, page cache warm)", f"{GIB / 1e9 / file_time:.1f} GB/s"),
    ]


def spaceflights(rounds: int) -> list[tuple[str, str]]:
    with tempfile.TemporaryDirectory() as folder:
        here = Path(folder) / "spaceflights"
        shutil.copytree(ROOT / "examples" / "spaceflights", here)
        shutil.rmtree(here / "data", ignore_errors=True)
        ductwork(here, "run", "-q")  # the data exists from here on; each run rewrites it

        def plain() -> None:
            ductwork(here, "run", "-q")

        def incremental() -> None:
            (here / "fresh.sqlite").unlink(missing_ok=True)
            ductwork(here, "run", "-q", "--incremental", "--cache", "fresh.sqlite")

        incremental()  # compile the incremental modules once
        times: dict[str, list[tuple[float, float]]] = {"plain": [], "incremental": []}
        for _ in range(rounds):  # interleaved, so that both see the same neighbours
            times["plain"].append(best_command(1, plain))
            times["incremental"].append(best_command(1, incremental))
        base = tuple(min(t[i] for t in times["plain"]) for i in (0, 1))
        extra = tuple(min(t[i] for t in times["incremental"]) for i in (0, 1))
        return [
            ("spaceflights, every node runs: ductwork run", _wall_cpu((base[0], base[1]))),
            (
                "spaceflights, every node misses: ductwork run --incremental",
                f"{_wall_cpu((extra[0], extra[1]))} ({(extra[0] / base[0] - 1) * 100:+.1f}% "
                f"wall, {(extra[1] / base[1] - 1) * 100:+.1f}% CPU)",
            ),
        ]


def _spaceflights_session(here: Path) -> tuple[Any, Any]:
    """The example's pipeline and a fresh catalog, loaded as ``ductwork run`` loads them."""
    from ductwork.cli.configuration import ConfigOptions, load_project_config
    from ductwork.cli.project import load_pipeline, read_settings
    from ductwork.io import DataCatalog

    pipeline, _ = load_pipeline("spaceflights.pipelines:create_pipelines", None)
    config = load_project_config(ConfigOptions(), read_settings(here), here)
    return pipeline, config.make_catalog(DataCatalog)


def versus_hamilton(python: str, rounds: int) -> list[tuple[str, str]]:
    """The same pipeline in one process: ductwork's incremental run beside Hamilton's cache."""
    import json

    import yaml

    from ductwork.incremental import run_incremental
    from ductwork.runner import SequentialRunner

    with tempfile.TemporaryDirectory() as folder:
        here = Path(folder) / "spaceflights"
        shutil.copytree(ROOT / "examples" / "spaceflights", here)
        shutil.rmtree(here / "data", ignore_errors=True)
        previous = Path.cwd()
        os.chdir(here)
        sys.path.insert(0, str(here))
        try:
            SequentialRunner().run(*_spaceflights_session(here))
            plain = best(rounds, lambda: SequentialRunner().run(*_spaceflights_session(here)))

            def cold() -> None:
                (here / "fresh.sqlite").unlink(missing_ok=True)
                run_incremental(
                    SequentialRunner(), *_spaceflights_session(here), store=here / "fresh.sqlite"
                )

            first = best(rounds, cold)
            time.sleep(3)
            again = best(
                rounds,
                lambda: run_incremental(
                    SequentialRunner(), *_spaceflights_session(here), store=here / "fresh.sqlite"
                ),
            )
        finally:
            os.chdir(previous)
            sys.path.remove(str(here))
        merged: dict[str, Any] = {}
        for path in sorted((here / "conf" / "base").glob("parameters*.yml")):
            merged.update(yaml.safe_load(path.read_text()) or {})
        params = json.dumps(merged)
        script = Path(__file__).with_name("hamilton_spaceflights.py")
        result = subprocess.run(
            [python, str(script), str(here), params, str(rounds)],
            capture_output=True,
            text=True,
            check=True,
            timeout=1800,
        )
    ham = json.loads(result.stdout.strip().splitlines()[-1])
    return [
        (
            "in one process: ductwork, no incremental / all miss / re-run",
            _three(plain, first, again),
        ),
        (
            "in one process: Hamilton 1.90, no cache / all miss / re-run",
            _three(ham["no_cache"], ham["first"], ham["again_built"]),
        ),
    ]


def _three(plain: float, first: float, again: float) -> str:
    return f"{plain:.2f} s / {first:.2f} s ({(first / plain - 1) * 100:+.0f}%) / {again:.3f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--touch-gb", type=int, default=10)
    parser.add_argument("--skip-spaceflights", action="store_true")
    parser.add_argument(
        "--hamilton-python",
        help="An interpreter with sf-hamilton installed (a scratch venv): compare with its cache.",
    )
    parser.add_argument(
        "--parts",
        default="nodes,touched,hashing,spaceflights",
        help="Which measures, comma-separated (nodes, touched, hashing, spaceflights).",
    )
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    measures: list[Callable[[], list[tuple[str, str]]]] = []
    if "nodes" in parts:
        measures.append(lambda: thousand_nodes(args.rounds))
    if "touched" in parts:
        measures.append(lambda: touched_inputs(args.touch_gb))
    if "hashing" in parts:
        measures.append(lambda: cold_hashing(args.rounds))
    if "spaceflights" in parts and not args.skip_spaceflights:
        measures.append(lambda: spaceflights(args.rounds))
    if args.hamilton_python:
        measures.append(lambda: versus_hamilton(args.hamilton_python, args.rounds))
    rows: list[tuple[str, str]] = []
    for measure in measures:
        found = measure()
        for label, value in found:  # as measured, so that a later failure loses nothing
            print(f"# {label}: {value}", file=sys.stderr, flush=True)
        rows += found
    width = max(len(label) for label, _ in rows)
    print(f"{'measure':<{width}}  result")
    print(f"{'-' * width}  ------")
    for label, value in rows:
        print(f"{label:<{width}}  {value}")


if __name__ == "__main__":
    main()

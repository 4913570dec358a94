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
"""

from __future__ import annotations

import argparse
import os
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
        first = best(1, lambda: ductwork(here, *args, "--incremental"))
        time.sleep(3)  # past the racy-stamp window, as any later run would be
        ductwork(here, *args, "--incremental")
        again = best(rounds, lambda: ductwork(here, *args, "--incremental"))
        bare = best(rounds, lambda: ductwork(here, "--version"))
        return [
            ("1,000 nodes, first run (all miss), whole command", f"{first:.2f} s"),
            ("1,000 nodes, re-run with nothing changed, whole command", f"{again:.2f} s"),
            ("  of which the command's start-up (ductwork --version)", f"{bare:.2f} s"),
        ]


def touched_inputs(gigabytes: int) -> list[tuple[str, str]]:
    from ductwork.datasets import PickleDataset
    from ductwork.incremental import run_incremental
    from ductwork.io import DataCatalog
    from ductwork.pipeline import Pipeline, node
    from ductwork.runner import SequentialRunner

    with tempfile.TemporaryDirectory(dir=ROOT) as folder:
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
        time.sleep(3)
        for path in files:
            path.touch()
        touched = run()
        time.sleep(3)
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
    with tempfile.TemporaryDirectory(dir=ROOT) as folder:
        path = Path(folder) / "random.bin"
        with open(path, "wb") as stream:
            for _ in range(GIB // (64 << 20)):
                stream.write(os.urandom(64 << 20))
        with Store(Path(folder) / "c.sqlite") as store:

            def hash_file() -> None:
                FileIdentities(store)._hash_file(str(path))

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

        times: dict[str, list[float]] = {"plain": [], "incremental": []}
        for _ in range(rounds):  # interleaved, so that both see the same neighbours
            times["plain"].append(best(1, plain))
            times["incremental"].append(best(1, incremental))
        base, extra = min(times["plain"]), min(times["incremental"])
        return [
            ("spaceflights, every node runs: ductwork run", f"{base:.2f} s"),
            (
                "spaceflights, every node misses: ductwork run --incremental",
                f"{extra:.2f} s ({(extra / base - 1) * 100:+.1f}%)",
            ),
        ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--touch-gb", type=int, default=10)
    parser.add_argument("--skip-spaceflights", action="store_true")
    args = parser.parse_args()
    rows = thousand_nodes(args.rounds)
    rows += touched_inputs(args.touch_gb)
    rows += cold_hashing(args.rounds)
    if not args.skip_spaceflights:
        rows += spaceflights(args.rounds)
    width = max(len(label) for label, _ in rows)
    print(f"{'measure':<{width}}  result")
    print(f"{'-' * width}  ------")
    for label, value in rows:
        print(f"{label:<{width}}  {value}")


if __name__ == "__main__":
    main()

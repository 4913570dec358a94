"""``kedro run`` with Kedro's runners and with ductwork's, side by side, in real Kedro projects.

Projects:

* ``fixture``: the test suite's Kedro project (tests/kedro/project: 10 nodes, CSV, Parquet,
  JSON, pickle and versioned datasets, a hook on every call);
* ``2000 nodes``: a generated project of 2,000 small nodes (a layered DAG: each node adds up to
  three outputs of the previous layers) with in-memory datasets;
* ``cpu-bound``: a generated project of 12 independent nodes that each spend about 0.1 s (on an
  idle core) of pure Python on a list of numbers, then one node that joins them.

Each cell is the **runner time**: from the session's ``before_pipeline_run`` hook to its
``after_pipeline_run`` (a timing hook in each project), i.e. the ``runner.run`` call, without
``kedro run``'s start-up (a few seconds, the same for every runner). Best of ``--rounds`` runs;
Kedro's ParallelRunner on the 2,000-node project runs once (it takes about 80 ms per node).
"refused" means the runner rejects the project (Kedro's ParallelRunner cannot send a lambda node
to a process).

Needs a Kedro environment (``make .venv-kedro-latest/.kedro-installed``)::

    .venv-kedro-latest/bin/python benchmarks/bench_kedro.py [--rounds 3]
        [--projects fixture,2000,cpu] [--runners Sequential,Parallel]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "kedro" / "project"
BIN = Path(sys.executable).parent

RUNNERS = [
    ("Kedro Sequential", "SequentialRunner"),
    ("Kedro Thread", "ThreadRunner"),
    ("Kedro Parallel", "ParallelRunner"),
    ("ductwork Sequential", "ductwork.kedro.SequentialRunner"),
    ("ductwork Thread", "ductwork.kedro.ThreadRunner"),
    ("ductwork Parallel", "ductwork.kedro.ParallelRunner"),
    ("ductwork Dask", "ductwork.kedro.DaskRunner"),
]

TIMING_HOOK = '''
import os
import time

from kedro.framework.hooks import hook_impl


class TimingHooks:
    """Writes the seconds between the pipeline hooks (the runner's run) to $BENCH_TIMING."""

    @hook_impl
    def before_pipeline_run(self):
        self.started = time.perf_counter()

    @hook_impl
    def after_pipeline_run(self):
        path = os.environ.get("BENCH_TIMING")
        if path:
            with open(path, "w") as stream:
                stream.write(repr(time.perf_counter() - self.started))
'''

REGISTRY = """
from kedro.pipeline import Pipeline, node


def add(*values):
    return sum(values) + 1


def burn(seed, size):
    # About 0.1 s of pure Python on an idle core: threads cannot share it, processes can.
    numbers = [float((seed * 7919 + i) % 1000) for i in range(size)]
    total = 0.0
    for _ in range(12):
        total += sum(x * x for x in numbers) % 97
    return [total] + numbers[:1000]


def join(*parts):
    return sum(part[0] for part in parts)


def layered(size, width=40):
    nodes = []
    for i in range(size):
        layer = i // width
        if layer == 0:
            inputs = ["params:seed"]
        else:
            start = (layer - 1) * width
            inputs = [f"d{start + (i * k + 3) % width}" for k in (1, 7, 13)]
            inputs = list(dict.fromkeys(inputs))
        nodes.append(node(add, inputs, f"d{i}", name=f"n{i}"))
    return Pipeline(nodes)


def cpu_bound(count=12):
    nodes = [
        node(burn, [f"params:seeds.s{i}", "params:size"], f"part{i}", name=f"burn{i}")
        for i in range(count)
    ]
    nodes.append(node(join, [f"part{i}" for i in range(count)], "joined", name="join"))
    return Pipeline(nodes)


def register_pipelines():
    return {"__default__": layered(2000), "wide2000": layered(2000), "cpu": cpu_bound()}
"""


def make_generated(where: Path) -> Path:
    """Write the generated project (both generated pipelines) under ``where``."""
    project = where / "generated"
    package = project / "src" / "dwbench"
    package.mkdir(parents=True)
    (project / "conf" / "base").mkdir(parents=True)
    (project / "conf" / "local").mkdir()
    (project / "pyproject.toml").write_text(
        textwrap.dedent(
            """
            [tool.kedro]
            package_name = "dwbench"
            project_name = "ductwork benchmark"
            kedro_init_version = "1.1.0"
            source_dir = "src"
            """
        )
    )
    seeds = "\n".join(f"  s{i}: {i + 1}" for i in range(12))
    (project / "conf" / "base" / "parameters.yml").write_text(
        f"seed: 1\nsize: 60000\nseeds:\n{seeds}\n"
    )
    (project / "conf" / "base" / "catalog.yml").write_text("{}\n")
    (package / "__init__.py").write_text("")
    (package / "timing.py").write_text(TIMING_HOOK)
    (package / "settings.py").write_text(
        "from dwbench.timing import TimingHooks\n\nHOOKS = (TimingHooks(),)\n"
    )
    (package / "pipeline_registry.py").write_text(REGISTRY)
    _quiet_logging(project)
    return project


def make_fixture(where: Path) -> Path:
    """A copy of the test fixture with the timing hook added to its settings."""
    project = where / "fixture"
    shutil.copytree(FIXTURE, project, ignore=shutil.ignore_patterns("__pycache__", ".ductwork"))
    package = project / "src" / "dwfixture"
    (package / "timing.py").write_text(TIMING_HOOK)
    (package / "settings.py").write_text(
        "from dwfixture.hooks import RecordingHooks\nfrom dwfixture.timing import TimingHooks\n\n"
        "HOOKS = (RecordingHooks(), TimingHooks())\n"
    )
    _quiet_logging(project)
    return project


def _quiet_logging(project: Path) -> None:
    # The same for every runner: warnings only, so that no runner pays for printing a line per
    # node and dataset.
    (project / "conf" / "logging.yml").write_text(
        textwrap.dedent(
            """
            version: 1
            disable_existing_loggers: false
            handlers:
              console: {class: logging.StreamHandler, level: WARNING, stream: ext://sys.stderr}
            loggers:
              kedro: {level: WARNING}
              ductwork: {level: WARNING}
            root: {handlers: [console], level: WARNING}
            """
        )
    )


def runner_time(project: Path, pipeline: str | None, runner: str, work: Path) -> float | None:
    """The runner time of one ``kedro run`` in a fresh copy of ``project`` (None: refused)."""
    copy = work / f"run-{os.getpid()}"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(project, copy)
    timing = work / "timing.txt"
    timing.unlink(missing_ok=True)
    args = [str(BIN / "kedro"), "run", f"--runner={runner}"]
    if pipeline:
        args += ["--pipeline", pipeline]
    if runner.endswith(("ThreadRunner", "ParallelRunner")) and _has_runner_params():
        args += ["--runner-params", "max_workers=2"]
    if runner.endswith("DaskRunner") and _has_runner_params():
        args += ["--runner-params", "n_workers=2"]
    env = {
        **os.environ,
        "BENCH_TIMING": str(timing),
        "KEDRO_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "1",
    }
    done = subprocess.run(
        args, cwd=copy, env=env, capture_output=True, text=True, timeout=1800, check=False
    )
    shutil.rmtree(copy, ignore_errors=True)
    if done.returncode != 0:
        if "cannot be serialised" in done.stdout + done.stderr:
            return None
        raise RuntimeError(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return float(timing.read_text())


def _has_runner_params() -> bool:
    import kedro

    major, minor = (int(part) for part in kedro.__version__.split(".")[:2])
    return (major, minor) >= (1, 6)


def _cell(seconds: float | None) -> str:
    if seconds is None:
        return "refused"
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--projects", default="fixture,2000,cpu")
    parser.add_argument("--runners", default="", help="substrings of runner columns to keep")
    options = parser.parse_args()
    import kedro

    chosen = options.projects.split(",")
    runners = [
        (label, path)
        for label, path in RUNNERS
        if not options.runners or any(p in label for p in options.runners.split(","))
    ]
    with tempfile.TemporaryDirectory() as temp:
        where = Path(temp)
        generated = make_generated(where)
        projects = {
            "fixture": ("fixture (10 nodes)", make_fixture(where), None),
            "2000": ("2000 nodes", generated, "wide2000"),
            "cpu": ("cpu-bound (13 nodes)", generated, "cpu"),
        }
        rows = []
        for key in chosen:
            title, project, pipeline = projects[key]
            cells = []
            for label, runner in runners:
                rounds = 1 if (key == "2000" and label == "Kedro Parallel") else options.rounds
                times = [runner_time(project, pipeline, runner, where) for _ in range(rounds)]
                best = None if None in times else min(t for t in times if t is not None)
                cells.append(best)
                print(f"  {title:22} {label:20} {_cell(best)}", file=sys.stderr, flush=True)
            rows.append((title, cells))
    print(
        f"\nRunner time under `kedro run` (Kedro {kedro.__version__}, {os.cpu_count()} cores, "
        f"best of {options.rounds}):\n"
    )
    header = "| project | " + " | ".join(label for label, _ in runners) + " |"
    print(header)
    print("|" + "---|" * (len(runners) + 1))
    for title, cells in rows:
        print(f"| {title} | " + " | ".join(_cell(c) for c in cells) + " |")
    labels = [label for label, _ in runners]
    for title, cells in rows:
        values = dict(zip(labels, cells, strict=True))
        base, ours = values.get("Kedro Sequential"), values.get("ductwork Sequential")
        if base and ours:
            print(f"{title}: ductwork Sequential is 1/{base / ours:.0f} of Kedro Sequential")
        kp, dp = values.get("Kedro Parallel"), values.get("ductwork Parallel")
        if kp and dp:
            print(f"{title}: Kedro Parallel / ductwork Parallel = {kp / dp:.2f}")


if __name__ == "__main__":
    main()

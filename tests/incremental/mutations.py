"""The mutation suite's project: ten nodes over files, params, closures, partials and classes.

``BASE`` is the project as files; each :class:`Mutation` changes it one way and names exactly
the nodes that must run again. The project's nodes::

    raw.txt -> clean -> cleaned (memory) -> words -> words.json
    words.json -> scale(params:alpha, Scaler)   -> scaled (memory)   \
               -> shift (closure offset)         -> shifted (memory)  \
               -> bonus (default argument)       -> bonus (memory)     > summary -> summary.json
               -> weighted (partial argument)    -> weighted (memory) /
               -> above (global THRESHOLD)       -> above.json       /
    params:beta -> side (package fakepkg)        -> side.json
    other.txt -> measure                         -> measured.json
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

BASE: dict[str, str] = {
    "proj/__init__.py": "",
    "proj/helpers.py": """
        def tidy(text):
            return text.strip()
        """,
    "proj/utils.py": """
        from proj import helpers

        UNUSED = 1


        def normalise(text):
            return helpers.tidy(text).lower()


        class Scaler:
            def __init__(self, factor):
                self.factor = factor

            def scale(self, values):
                return [v * self.factor for v in values]

            def unused(self):
                return 0
        """,
    "proj/nodes.py": """
        import fakepkg

        from proj import utils
        from proj.utils import Scaler

        THRESHOLD = 4
        OTHER_CONSTANT = 10


        def clean(raw):
            return utils.normalise(raw).split()


        def words(cleaned):
            return {w: cleaned.count(w) for w in sorted(set(cleaned))}


        def scale(words, alpha):
            return Scaler(alpha).scale(sorted(words.values()))


        def make_shift(offset):
            def shift(words):
                return [len(w) + offset for w in words]

            return shift


        def with_default(words, bonus=3):
            return len(words) + bonus


        def weighted(words, weight):
            return sum(words.values()) * weight


        def above(words):
            return sorted(w for w in words if len(w) >= THRESHOLD)


        def summary(scaled, shifted, bonus, weighted, above):
            return {
                "scaled": scaled,
                "shifted": shifted,
                "bonus": bonus,
                "weighted": weighted,
                "above": above,
            }


        def side(beta):
            return {"side": fakepkg.helper(beta)}


        def measure(other):
            return {"length": len(other)}
        """,
    "proj/pipeline.py": """
        import functools
        import json

        from ductwork.datasets import JSONDataset, TextDataset
        from ductwork.io import DataCatalog, MemoryDataset
        from ductwork.pipeline import Pipeline, node

        from proj import nodes

        SHIFT = 1


        def make_pipeline():
            return Pipeline(
                [
                    node(nodes.clean, "raw", "cleaned", name="clean"),
                    node(nodes.words, "cleaned", "words", name="words"),
                    node(nodes.scale, ["words", "params:alpha"], "scaled", name="scale"),
                    node(nodes.make_shift(SHIFT), "words", "shifted", name="shift"),
                    node(nodes.with_default, "words", "bonus", name="bonus"),
                    node(
                        functools.partial(nodes.weighted, weight=2),
                        "words",
                        "weighted",
                        name="weighted",
                    ),
                    node(nodes.above, "words", "above", name="above"),
                    node(
                        nodes.summary,
                        ["scaled", "shifted", "bonus", "weighted", "above"],
                        "summary",
                        name="summary",
                    ),
                    node(nodes.side, "params:beta", "side", name="side"),
                    node(nodes.measure, "other", "measured", name="measure"),
                ]
            )


        def make_catalog():
            with open("data/params.json") as stream:
                params = json.load(stream)
            catalog = DataCatalog(
                {
                    "raw": TextDataset(filepath="data/raw.txt"),
                    "other": TextDataset(filepath="data/other.txt"),
                    "words": JSONDataset(filepath="data/words.json"),
                    "above": JSONDataset(filepath="data/above.json"),
                    "summary": JSONDataset(filepath="data/summary.json"),
                    "side": JSONDataset(filepath="data/side.json"),
                    "measured": JSONDataset(filepath="data/measured.json"),
                }
            )
            for key, value in params.items():
                catalog["params:" + key] = MemoryDataset(value)
            return catalog
        """,
    "fakepkg/__init__.py": """
        def helper(value):
            return value * 10
        """,
    "fakepkg-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: fakepkg\nVersion: 1.0\n",
    "data/raw.txt": "  Apple banana apple Cherry date elderberry fig  \n",
    "data/other.txt": "other input\n",
    "data/params.json": '{"alpha": 2, "beta": 1}\n',
}
INPUTS = ("data/raw.txt", "data/other.txt", "data/params.json")
OUTPUTS = ("words", "above", "summary", "side", "measured")
NODES = (
    "clean",
    "words",
    "scale",
    "shift",
    "bonus",
    "weighted",
    "above",
    "summary",
    "side",
    "measure",
)
# What re-runs when summary must: it and the producers of its in-memory inputs.
SUMMARY = {"summary", "scale", "shift", "bonus", "weighted"}
# What re-runs when words.json changes: everything that reads it.
WORDS_DOWN = {"words", "scale", "shift", "bonus", "weighted", "above", "summary"}


def edit(relative: str, old: str, new: str) -> Callable[[Path], None]:
    def change(root: Path) -> None:
        path = root / relative
        text = path.read_text()
        assert old in text, f"{old!r} not in {relative}"
        path.write_text(text.replace(old, new, 1))

    return change


def rewrite_keeping_stamp(relative: str, old: str, new: str) -> Callable[[Path], None]:
    """Change a file's content keeping its size, then restore its mtime."""

    def change(root: Path) -> None:
        path = root / relative
        info = os.stat(path)
        text = path.read_text()
        assert old in text
        assert len(old) == len(new)
        path.write_text(text.replace(old, new, 1))
        os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
        assert os.stat(path).st_size == info.st_size

    return change


def touch(relative: str) -> Callable[[Path], None]:
    def change(root: Path) -> None:
        (root / relative).touch()

    return change


def delete(relative: str) -> Callable[[Path], None]:
    def change(root: Path) -> None:
        (root / relative).unlink()

    return change


def bump_package(root: Path) -> None:
    folder = root / "fakepkg-1.0.dist-info"
    text = (folder / "METADATA").read_text().replace("Version: 1.0", "Version: 2.0")
    shutil.rmtree(folder)
    (root / "fakepkg-2.0.dist-info").mkdir()
    (root / "fakepkg-2.0.dist-info" / "METADATA").write_text(text)


def both(*changes: Callable[[Path], None]) -> Callable[[Path], None]:
    def change(root: Path) -> None:
        for one in changes:
            one(root)

    return change


@dataclass(frozen=True)
class Mutation:
    """One change to the project and exactly the nodes that must run after it."""

    name: str
    change: Callable[[Path], None]
    reruns: frozenset[str]
    reason: dict[str, str] = field(default_factory=dict)  # node -> text its reason contains
    # What runs instead where in-memory outputs are hashed as their node finishes (early
    # cut-off through in-memory data); None: the same as ``reruns``.
    reruns_seen: frozenset[str] | None = None


def mutation(
    name: str,
    change: Callable[[Path], None],
    reruns: set[str],
    *,
    seen: set[str] | None = None,
    **reason: str,
) -> Mutation:
    return Mutation(
        name, change, frozenset(reruns), reason, None if seen is None else frozenset(seen)
    )


NODES_PY = "proj/nodes.py"
UTILS_PY = "proj/utils.py"
PIPELINE_PY = "proj/pipeline.py"

MUTATIONS: list[Mutation] = [
    mutation("nothing", lambda root: None, set()),
    # The node's own body.
    mutation(
        "body, same output",
        edit(
            NODES_PY,
            "return utils.normalise(raw).split()",
            "return utils.normalise(raw).split(None)",
        ),
        {"clean", "words"},
        seen={"clean"},
        clean="code of clean() changed",
    ),
    mutation(
        "body, new output",
        edit(NODES_PY, "utils.normalise(raw).split()", "utils.normalise(raw).split()[1:]"),
        {"clean"} | WORDS_DOWN,
        clean="code of clean() changed",
        words="upstream clean re-ran and its output cleaned changed",
    ),
    mutation(
        "body of a leaf",
        edit(NODES_PY, 'return {"length": len(other)}', 'return {"length": len(other) + 1}'),
        {"measure"},
        measure="code of measure() changed",
    ),
    mutation(
        "body, same words.json",
        edit(NODES_PY, "for w in sorted(set(cleaned))}", "for w in sorted(set(cleaned), key=str)}"),
        {"clean", "words"},
        words="code of words() changed",
        clean="recomputes in-memory cleaned for words",
    ),
    # A helper in another module, and its helper.
    mutation(
        "helper in another module, same output",
        edit(UTILS_PY, "helpers.tidy(text).lower()", "helpers.tidy(text).casefold()"),
        {"clean", "words"},
        seen={"clean"},
        clean="code of clean() changed: helper normalise() in proj/utils.py",
    ),
    mutation(
        "helper in another module, new output",
        edit(UTILS_PY, "helpers.tidy(text).lower()", "helpers.tidy(text).upper()"),
        {"clean"} | WORDS_DOWN,
        clean="helper normalise() in proj/utils.py",
    ),
    mutation(
        "helper of a helper",
        edit("proj/helpers.py", "return text.strip()", "return text.strip().replace('fig', 'fog')"),
        {"clean"} | WORDS_DOWN,
        seen={"clean"} | WORDS_DOWN - {"summary"},
        clean="helper tidy() in proj/helpers.py",
    ),
    mutation(
        "unused constant in a helper module",
        edit(UTILS_PY, "UNUSED = 1", "UNUSED = 2"),
        set(),
    ),
    # Closures, defaults, partials, globals.
    mutation(
        "closure value",
        edit(PIPELINE_PY, "SHIFT = 1", "SHIFT = 2"),
        SUMMARY,
        shift="closure value offset of make_shift.<locals>.shift() changed",
        summary="upstream shift re-ran and its output shifted changed",
    ),
    mutation(
        "default argument",
        edit(NODES_PY, "def with_default(words, bonus=3):", "def with_default(words, bonus=4):"),
        SUMMARY,
        bonus="default argument 0 of with_default() changed",
    ),
    mutation(
        "partial argument",
        edit(PIPELINE_PY, "weight=2", "weight=3"),
        SUMMARY,
        weighted="partial argument weight= of weighted() changed",
    ),
    mutation(
        "global constant",
        edit(NODES_PY, "THRESHOLD = 4", "THRESHOLD = 5"),
        SUMMARY | {"above"},
        above="global THRESHOLD in proj/nodes.py changed",
    ),
    mutation(
        "global constant, same result",
        edit(NODES_PY, "THRESHOLD = 4", "THRESHOLD = 4.0"),
        {"above"},
        above="global THRESHOLD in proj/nodes.py changed",
    ),
    mutation(
        "global constant nobody reads",
        edit(NODES_PY, "OTHER_CONSTANT = 10", "OTHER_CONSTANT = 11"),
        set(),
    ),
    # Classes.
    mutation(
        "method the node uses",
        edit(
            UTILS_PY,
            "return [v * self.factor for v in values]",
            "return [v * self.factor + 1 for v in values]",
        ),
        SUMMARY,
        scale="method Scaler.scale() in proj/utils.py",
    ),
    mutation(
        "method the node uses, same output",
        edit(
            UTILS_PY,
            "return [v * self.factor for v in values]",
            "return [self.factor * v for v in values]",
        ),
        SUMMARY,
        seen={"scale"},
        scale="code of scale() changed: method Scaler.scale() in proj/utils.py",
    ),
    mutation(
        "another method of the class",
        edit(UTILS_PY, "return 0", "return 1"),
        SUMMARY,
        seen={"scale"},
        scale="method Scaler.unused() in proj/utils.py",
    ),
    mutation(
        "a new method on the class",
        edit(
            UTILS_PY,
            "    def unused(self):",
            "    def added(self):\n        return 2\n\n    def unused(self):",
        ),
        SUMMARY,
        seen={"scale"},
        scale="class Scaler in proj/utils.py",
    ),
    # Parameters.
    mutation(
        "parameter",
        edit("data/params.json", '"alpha": 2', '"alpha": 3'),
        SUMMARY,
        scale="params:alpha 2 -> 3",
    ),
    mutation(
        "parameter of a leaf",
        edit("data/params.json", '"beta": 1', '"beta": 5'),
        {"side"},
        side="params:beta 1 -> 5",
    ),
    mutation(
        "parameter type only",
        edit("data/params.json", '"beta": 1', '"beta": 1.0'),
        {"side"},
        side="params:beta 1 -> 1.0",
    ),
    mutation(
        "a parameter nobody reads",
        edit("data/params.json", '"beta": 1', '"beta": 1, "gamma": 7'),
        set(),
    ),
    # Input files.
    mutation(
        "input content, same size and mtime",
        rewrite_keeping_stamp("data/raw.txt", "banana", "banane"),
        {"clean"} | WORDS_DOWN,
        clean="input raw: file changed",
    ),
    mutation(
        "input content, same words",
        rewrite_keeping_stamp("data/raw.txt", "Apple", "APPLE"),
        {"clean", "words"},
        seen={"clean"},
        clean="input raw: file changed",
    ),
    mutation("input touched", touch("data/raw.txt"), set()),
    mutation(
        "other input changed",
        edit("data/other.txt", "other input", "another input"),
        {"measure"},
        measure="input other: file changed",
    ),
    mutation("other input touched", touch("data/other.txt"), set()),
    mutation(
        "input read differently (load arguments)",
        edit(
            PIPELINE_PY,
            'TextDataset(filepath="data/other.txt")',
            'TextDataset(filepath="data/other.txt", '
            'fs_args={"open_args_load": {"encoding": "latin-1"}})',
        ),
        {"measure"},
        measure="input other: read differently",
    ),
    # Outputs.
    mutation(
        "output deleted",
        delete("data/measured.json"),
        {"measure"},
        measure="output measured changed or is missing",
    ),
    mutation(
        "output edited by hand",
        edit("data/summary.json", '"bonus"', '"bonus2"'),
        SUMMARY,
        summary="output summary changed or is missing",
    ),
    mutation(
        "intermediate output deleted",
        delete("data/words.json"),
        {"clean", "words"},
        words="output words changed or is missing",
    ),
    mutation("output touched", touch("data/summary.json"), set()),
    # Renames and structure.
    mutation(
        "renamed dataset",
        both(
            edit(
                PIPELINE_PY, '"words", "shifted", name="shift"', '"words", "shifted2", name="shift"'
            ),
            edit(PIPELINE_PY, '["scaled", "shifted", "bonus"', '["scaled", "shifted2", "bonus"'),
        ),
        SUMMARY,
        shift="its dataset names changed",
    ),
    mutation(
        "renamed output file",
        edit(PIPELINE_PY, '"data/measured.json"', '"data/measured2.json"'),
        {"measure"},
    ),
    mutation(
        "output written differently (save arguments)",
        edit(
            PIPELINE_PY,
            'JSONDataset(filepath="data/side.json")',
            'JSONDataset(filepath="data/side.json", save_args={"indent": 4})',
        ),
        {"side"},
    ),
    mutation(
        "node function swapped",
        edit(PIPELINE_PY, "node(nodes.measure,", "node(nodes.side,"),
        {"measure"},
    ),
    mutation(
        "a node added",
        edit(
            PIPELINE_PY,
            'name="measure"),',
            'name="measure"),\n'
            '            node(nodes.measure, "other", "measured_again", name="again"),',
        ),
        {"again"},
        again="no earlier run recorded",
    ),
    mutation(
        "a node removed",
        edit(PIPELINE_PY, 'node(nodes.measure, "other", "measured", name="measure"),', ""),
        set(),
    ),
    mutation(
        "declared not cacheable",
        edit(PIPELINE_PY, 'name="measure")', 'name="measure", tags=["not_cacheable"])'),
        {"measure"},
        measure="not cacheable (declared)",
    ),
    # Packages.
    mutation(
        "package version",
        bump_package,
        {"side"},
        side="package fakepkg 1.0 -> 2.0",
    ),
    # Comments and formatting only.
    mutation(
        "comments only",
        both(
            edit(
                NODES_PY,
                "def clean(raw):\n",
                "# Cleaning.\ndef clean(raw):\n    # split on blanks\n",
            ),
            edit(UTILS_PY, "class Scaler:", "# A scaler.\n\n\nclass Scaler:"),
        ),
        set(),
    ),
    mutation(
        "formatting only",
        edit(
            NODES_PY,
            "return sorted(w for w in words if len(w) >= THRESHOLD)",
            "return sorted(\n        w\n        for w in words\n"
            "        if len(w) >= THRESHOLD\n    )",
        ),
        set(),
    ),
    mutation(
        "blank lines moving every function",
        edit(NODES_PY, "import fakepkg\n", "import fakepkg\n\n\n\n\n"),
        set(),
    ),
]

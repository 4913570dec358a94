"""Fuzzing the configuration loading and the journal reading: whatever the files hold, the outcome
is a value or a ductwork error naming the file (and the key), never a traceback of another type.

The configuration is fuzzed as a project has it (``conf/base`` + ``conf/local``: catalog,
parameters, credentials and globals, with ``${...}`` interpolation and runtime parameters) and as
``--catalog``/``--params`` files name it, through :func:`load_project_config`, the function
``ductwork run`` calls."""

from __future__ import annotations

import json
import string
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ductwork.cli.configuration import ConfigOptions, load_project_config
from ductwork.cli.project import ProjectSettings, param_datasets
from ductwork.cli.report_command import list_runs
from ductwork.cli.resume import last_run
from ductwork.exceptions import DatasetError, DuctworkError, JournalError, ProjectConfigError
from ductwork.io import DataCatalog
from ductwork.report import render_chrome_trace, render_html
from ductwork.report.journal import load_journal, unfinished_nodes

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

KEYS = st.sampled_from(
    [
        "type",
        "filepath",
        "load_args",
        "save_args",
        "credentials",
        "versioned",
        "backend",
        "fs_args",
        "metadata",
        "x",
        "a",
        "b",
        "{name}",
        "{a}_{b}",
        "params:x",
        "_anchor",
        "__proto__",
        "",
    ]
)
TYPES = st.sampled_from(
    [
        "PickleDataset",
        "pickle.PickleDataset",
        "TextDataset",
        "YAMLDataset",
        "JSONDataset",
        "MemoryDataset",
        "pandas.CSVDataset",
        "CachedDataset",
        "os.system",
        "builtins.eval",
        "no.such.Thing",
        "kedro_datasets.pickle.PickleDataset",
        "",
        "..",
    ]
)
# What interpolation may meet: references that resolve, that do not, that are malformed, that
# loop, that read the environment (allowed in credentials only), escaped ones and defaults.
REFERENCES = st.sampled_from(
    [
        "${globals:a}",
        "${globals:a.b}",
        "${globals:missing}",
        "${globals:missing, fallback}",
        "${runtime_params:x}",
        "${runtime_params:missing}",
        "${a}",
        "${x}",
        "${x.y}",
        "${..a}",
        "${oc.env:HOME}",
        "${oc.env:DUCTWORK_FUZZ_UNSET}",
        "${oc.env:DUCTWORK_FUZZ_UNSET, dflt}",
        "${nosuch:a}",
        "${",
        "${}",
        "${a}${b}",
        "${${a}}",
        "\\${escaped}",
        "pre ${globals:a} post",
        "${globals:a, ${globals:b}}",
    ]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    TYPES,
    REFERENCES,
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(KEYS, st.text(max_size=8)), inner, max_size=5),
    ),
    max_leaves=25,
)
ENTRY = st.dictionaries(KEYS, st.one_of(TYPES, REFERENCES, VALUES), max_size=6)
CATALOG = st.dictionaries(
    st.one_of(KEYS, st.text(max_size=10)), st.one_of(ENTRY, VALUES), max_size=5
)
MAPPINGS = st.dictionaries(st.one_of(KEYS, st.text(max_size=8)), VALUES, max_size=5)

YAML_NOISE = st.text(alphabet=string.printable + "&*!|>%@`{}[]-:?$\u00e9\ufeff", max_size=200)
RUNTIME = st.dictionaries(st.sampled_from(["x", "a", "x.y", "model.depth"]), SCALARS, max_size=3)


def _yaml_text(data: Any, noise: str, cut: int) -> str:
    try:
        text = yaml.safe_dump(data, allow_unicode=True)
    except yaml.YAMLError:
        text = ""
    # A document, a document with noise spliced in, or noise alone.
    return text[:cut] + noise + text[cut:]


@st.composite
def file_texts(draw: st.DrawFn, data: st.SearchStrategy[Any]) -> str:
    noise = draw(st.one_of(st.just(""), st.just(""), YAML_NOISE))
    return _yaml_text(draw(data), noise, draw(st.integers(0, 300)))


KINDS = {"catalog": CATALOG, "parameters": MAPPINGS, "credentials": MAPPINGS, "globals": MAPPINGS}


@st.composite
def projects(draw: st.DrawFn) -> dict[str, str]:
    """The files of a conf folder: each kind in base and local, or missing."""
    files: dict[str, str] = {}
    for env in ("base", "local"):
        for kind, data in KINDS.items():
            if draw(st.integers(0, 3)) > 0:
                files[f"{env}/{kind}.yml"] = draw(file_texts(data))
    return files


def _assert_names_a_file(error: BaseException, paths: list[Path]) -> None:
    """A ductwork error naming one of ``paths`` (or the runtime parameters that it blames)."""
    assert isinstance(error, DuctworkError), f"{type(error).__name__}: {error}"
    text = str(error)
    assert any(str(path) in text for path in paths) or "--params" in text, text
    if "cannot resolve" in text or "Duplicate key" in text:
        assert "key '" in text, text


def _use_catalog(catalog: DataCatalog) -> None:
    """Build every entry: a failure is a dataset error naming the entry."""
    for name in list(catalog.config_resolver.config):
        try:
            catalog[name]
        except DatasetError as error:
            assert f"'{name}'" in str(error), str(error)  # noqa: PT017 - raising is optional


def _load(root: Path, options: ConfigOptions, paths: list[Path]) -> None:
    project = ProjectSettings(source=root / "pyproject.toml")
    try:
        config = load_project_config(options, project, root)
        catalog = config.make_catalog(DataCatalog)
    except Exception as error:
        _assert_names_a_file(error, paths)
        return
    assert isinstance(config.parameters, dict)
    assert param_datasets(config.parameters)["parameters"] == config.parameters
    assert "credentials" not in repr(config) or "hidden" in repr(config)
    _use_catalog(catalog)


@FUZZ
@given(files=projects(), runtime=RUNTIME)
def test_a_conf_folder_gives_a_configuration_or_an_error_naming_the_file_and_key(
    files: dict[str, str], runtime: dict[str, Any]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "conf" / "base").mkdir(parents=True)
        paths = []
        for relative, text in files.items():
            path = root / "conf" / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            paths.append(path)
        params = tuple(f"{key}={json.dumps(value)}" for key, value in runtime.items())
        _load(root, ConfigOptions(params=params), paths)


@FUZZ
@given(text=file_texts(st.one_of(CATALOG, VALUES)), globals_text=file_texts(MAPPINGS))
def test_a_catalog_file_gives_a_catalog_or_an_error_naming_the_file_and_entry(
    text: str, globals_text: str
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "conf" / "base").mkdir(parents=True)
        globals_path = root / "conf" / "base" / "globals.yml"
        globals_path.write_text(globals_text, encoding="utf-8")
        path = root / "catalog.yml"
        path.write_text(text, encoding="utf-8")
        _load(root, ConfigOptions(catalog=(str(path),)), [path, globals_path])


@FUZZ
@given(texts=st.lists(file_texts(VALUES), min_size=1, max_size=3))
def test_parameters_files_give_parameters_or_an_error_naming_the_file(texts: list[str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        paths = []
        for index, text in enumerate(texts):
            path = root / f"params{index}.yml"
            path.write_text(text, encoding="utf-8")
            paths.append(path)
        _load(root, ConfigOptions(params=tuple(str(p) for p in paths)), paths)


# --- journals -------------------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=12),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=15,
)
NODE_KEYS = st.sampled_from(
    [
        "name",
        "status",
        "reason",
        "started",
        "finished",
        "worker",
        "error",
        "inputs",
        "outputs",
        "tags",
        "namespace",
        "attempts",
        "peak_rss",
        "cpu_time",
    ]
)
RUN_KEYS = st.sampled_from(
    [
        "journal_version",
        "run_id",
        "pipeline",
        "pipeline_name",
        "runner",
        "status",
        "started",
        "finished",
        "error",
        "counts",
        "command",
        "resume_command",
        "resumed_from",
        "host",
        "pid",
        "options",
        "nodes",
        "datasets",
        "phases",
    ]
)


def _valid_journal() -> dict[str, Any]:
    node = {
        "name": "n",
        "status": "done",
        "reason": None,
        "started": 10.0,
        "finished": 11.0,
        "worker": "main",
        "error": None,
        "inputs": ["a"],
        "outputs": ["b"],
        "tags": [],
        "namespace": None,
        "attempts": 1,
        "peak_rss": 1024,
        "cpu_time": 0.5,
    }
    failed = {
        **node,
        "name": "m",
        "status": "failed",
        "inputs": ["b"],
        "outputs": ["c"],
        "error": {"node": "m", "type": "ValueError", "message": "x", "traceback": "t"},
    }
    return {
        "journal_version": 1,
        "run_id": "fuzzed",
        "pipeline": "proj:pipeline",
        "pipeline_name": None,
        "runner": "sequential",
        "status": "failed",
        "started": 9.0,
        "finished": 12.0,
        "error": failed["error"],
        "counts": {"done": 1, "failed": 1},
        "nodes": [node, failed],
        "datasets": {
            "a": {"persisted": True, "type": "ductwork.datasets.PickleDataset", "size": 10},
            "b": {"persisted": False, "type": "ductwork.io.MemoryDataset"},
            "c": {"persisted": True, "size": 5, "rows": 2, "columns": 3},
        },
        "phases": [{"name": "loading the project", "started": 8.0, "finished": 9.0}],
    }


@st.composite
def journals(draw: st.DrawFn) -> Any:
    """A valid journal with a few fields changed, removed or replaced by anything, or anything."""
    if draw(st.integers(0, 9)) == 0:
        return draw(JSON_VALUES)
    journal = _valid_journal()
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.integers(0, 5))
        if where in (0, 1):
            target: dict[str, Any] = journal
            key = draw(RUN_KEYS)
        elif where == 2 and isinstance(journal.get("datasets"), dict) and journal["datasets"]:
            entries = journal["datasets"]
            entry = entries[draw(st.sampled_from(sorted(entries)))]
            if not isinstance(entry, dict):
                continue
            target = entry
            key = draw(st.sampled_from(["persisted", "type", "size", "rows", "columns"]))
        elif where == 3 and isinstance(journal.get("phases"), list) and journal["phases"]:
            phase = journal["phases"][0]
            if not isinstance(phase, dict):
                continue
            target = phase
            key = draw(st.sampled_from(["name", "started", "finished"]))
        else:
            nodes = journal.get("nodes")
            if not isinstance(nodes, list) or not nodes or not isinstance(nodes[0], dict):
                continue
            picked = nodes[draw(st.integers(0, len(nodes) - 1))]
            if not isinstance(picked, dict):  # an earlier mutation replaced this entry
                continue
            target = picked
            key = draw(NODE_KEYS)
        if draw(st.integers(0, 4)) == 0:
            target.pop(key, None)
        else:
            target[key] = draw(JSON_VALUES)
    return journal


@FUZZ
@given(journal=journals(), raw=st.one_of(st.none(), st.binary(max_size=60)))
def test_journals_read_whole_or_fail_naming_the_file_and_never_crash_a_reader(
    journal: Any, raw: bytes | None
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        runs = Path(folder) / "runs"
        runs.mkdir()
        path = runs / "fuzzed.json"
        if raw is None:
            path.write_text(json.dumps(journal), encoding="utf-8")
        else:
            path.write_bytes(raw)
        try:
            loaded = load_journal(path)
        except JournalError as error:
            assert str(path) in str(error), str(error)  # noqa: PT017 - raising is optional
            assert "fuzzed.json" in list_runs(runs, 10)
            try:
                last_run(runs, "proj:pipeline", None)
            except JournalError as refusal:
                assert "fuzzed.json" in str(refusal)  # noqa: PT017
            return
        except Exception as error:  # pragma: no cover - the failure this test looks for
            raise AssertionError(f"{type(error).__name__}: {error}") from error
        # Whatever passed the check, every reader can use.
        render_html(loaded)
        render_chrome_trace(loaded)
        unfinished_nodes(loaded)
        list_runs(runs, 10)
        last_run(runs, "proj:pipeline", None)


def test_the_valid_journal_of_the_fuzzer_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "fuzzed.json"
    path.write_text(json.dumps(_valid_journal()))
    assert load_journal(path)["status"] == "failed"
    assert isinstance(ProjectConfigError("x"), DuctworkError)


# --- what the fuzzing found, kept as examples -----------------------------------------------------

FOUND = [
    # A catalog entry's own mistake names the file that holds the entry.
    ("base/catalog.yml", "d: {filepath: x.pkl}\n", "catalog.yml: ", "'d'"),
    ("local/catalog.yml", "e: [1, 2]\n", "local/catalog.yml: ", "'e'"),
    # A key of superscript digits (isdigit() but not int()) under an unresolvable reference.
    ("base/parameters.yml", "x: {'\u00b2': '${globals:missing}'}\n", "parameters.yml", "x.\u00b2"),
    # A key OmegaConf cannot spell ('') under an unresolvable reference: the file is still named.
    ("base/credentials.yml", "'': '${globals:a}'\n", "credentials.yml", "globals"),
    # A control character.
    ("base/globals.yml", "a: \x0c\n", "globals.yml", "unacceptable character"),
]


@pytest.mark.parametrize(("relative", "text", "file", "key"), FOUND)
def test_what_the_fuzzing_found(
    tmp_path: Path, relative: str, text: str, file: str, key: str
) -> None:
    path = tmp_path / "conf" / relative
    path.parent.mkdir(parents=True)
    (tmp_path / "conf" / "base").mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    project = ProjectSettings(source=tmp_path / "pyproject.toml")
    with pytest.raises(ProjectConfigError) as caught:
        load_project_config(ConfigOptions(), project, tmp_path).make_catalog(DataCatalog)
    assert str(path) in str(caught.value)
    assert file in str(caught.value)
    assert key in str(caught.value)

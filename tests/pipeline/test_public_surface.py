"""The public names of ductwork.pipeline, and where Kedro code imports them from."""

from __future__ import annotations

import importlib

import pytest

import ductwork.pipeline
from ductwork import exceptions
from ductwork.pipeline import transcoding

# `ductwork.pipeline.node` is the function (as in Kedro); the module lives in sys.modules.
node_module = importlib.import_module("ductwork.pipeline.node")
pipeline_module = importlib.import_module("ductwork.pipeline.pipeline")

EXPECTED = {
    "CircularDependencyError",
    "ConfirmNotUniqueError",
    "GroupedNodes",
    "Node",
    "OutputNotUniqueError",
    "Pipeline",
    "PipelineError",
    "Retry",
    "node",
    "pipeline",
}


def test_all_is_pinned() -> None:
    assert set(ductwork.pipeline.__all__) == EXPECTED
    assert len(ductwork.pipeline.__all__) == len(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_public_name_resolves(name: str) -> None:
    assert getattr(ductwork.pipeline, name) is not None


def test_kedro_module_layout() -> None:
    from ductwork.pipeline.node import Node
    from ductwork.pipeline.pipeline import CircularDependencyError, Pipeline

    assert Node is ductwork.pipeline.Node
    assert Pipeline is ductwork.pipeline.Pipeline
    assert CircularDependencyError is exceptions.CircularDependencyError
    assert node_module.Node is ductwork.pipeline.Node
    assert node_module.node is ductwork.pipeline.node
    assert pipeline_module.Pipeline is ductwork.pipeline.Pipeline
    assert pipeline_module.pipeline is ductwork.pipeline.pipeline
    assert pipeline_module.GroupedNodes is ductwork.pipeline.GroupedNodes
    assert transcoding.TRANSCODING_SEPARATOR == "@"
    assert transcoding._strip_transcoding("a@b") == "a"
    assert transcoding._transcode_split("a@b") == ("a", "b")


@pytest.mark.parametrize(
    "name",
    ["PipelineError", "OutputNotUniqueError", "ConfirmNotUniqueError", "CircularDependencyError"],
)
def test_errors_are_the_ones_of_the_single_hierarchy(name: str) -> None:
    assert getattr(pipeline_module, name) is getattr(exceptions, name)
    assert getattr(ductwork.pipeline, name) is getattr(exceptions, name)
    assert issubclass(getattr(exceptions, name), exceptions.DuctworkError)


@pytest.mark.parametrize(
    ("name", "builtin"),
    [
        ("InvalidNodeError", ValueError),
        ("NodeSignatureError", TypeError),
        ("InvalidDatasetNameError", ValueError),
        ("NodeInputError", ValueError),
        ("NodeOutputError", ValueError),
        ("InvalidPipelineError", ValueError),
        ("PipelineQueryError", ValueError),
        ("UnknownNodeError", ValueError),
        ("UnknownDatasetError", ValueError),
        ("UnknownNamespaceError", ValueError),
        ("EmptyPipelineError", ValueError),
    ],
)
def test_errors_kedro_raises_as_builtins_are_both(name: str, builtin: type[Exception]) -> None:
    error = getattr(exceptions, name)
    assert issubclass(error, exceptions.PipelineError)
    assert issubclass(error, builtin)
    assert name in exceptions.__all__


def test_mapping_error_is_a_pipeline_error() -> None:
    assert issubclass(exceptions.PipelineMappingError, exceptions.PipelineError)


def test_importing_the_pipeline_model_pulls_no_heavy_dependency() -> None:
    # A fresh interpreter: other tests may have imported pandas into this one.
    import subprocess
    import sys

    code = (
        "import sys, ductwork.pipeline\n"
        "heavy = {'pandas', 'dask', 'rich', 'numpy'} & set(sys.modules)\n"
        "print(sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_submodules_import_cleanly() -> None:
    for name in ("graph", "grouping", "node", "pipeline", "transcoding"):
        assert importlib.import_module(f"ductwork.pipeline.{name}").__doc__

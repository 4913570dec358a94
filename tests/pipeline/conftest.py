"""Fixtures for the pipeline-model tests: small pipelines of known shape."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ductwork.pipeline import Pipeline, node, pipeline
from ductwork.pipeline._node_spec import DOTTED_NAME_WARNING
from tests.pipeline.funcs import biconcat, fan_in, identity


@pytest.fixture(autouse=True)
def fresh_dotted_name_warning() -> Iterator[None]:
    """The dotted-name warning fires once per process; every test starts as a new process."""
    DOTTED_NAME_WARNING.reset()
    yield
    DOTTED_NAME_WARNING.reset()


@pytest.fixture
def chain() -> Pipeline:
    """a -> n1 -> b -> n2 -> c -> n3 -> d."""
    return pipeline(
        [
            node(identity, "c", "d", name="n3"),
            node(identity, "a", "b", name="n1"),
            node(identity, "b", "c", name="n2"),
        ]
    )


@pytest.fixture
def diamond() -> Pipeline:
    """src -> (left, right) -> join, plus an independent node."""
    return pipeline(
        [
            node(identity, "raw", "clean", name="src", tags=["prep"]),
            node(identity, "clean", "l", name="left", tags=["branch"]),
            node(identity, "clean", "r", name="right", tags=["branch"]),
            node(biconcat, ["l", "r"], "joined", name="join"),
            node(identity, "other", "lonely", name="alone", tags="misc"),
        ]
    )


@pytest.fixture
def fan_out_fan_in() -> Pipeline:
    """One source, five workers, one collector."""
    workers = [node(identity, "seed", f"part{i}", name=f"worker{i}") for i in range(5)]
    collect = node(fan_in, [f"part{i}" for i in range(5)], "total", name="collect")
    return pipeline([node(identity, "input", "seed", name="source"), *workers, collect])

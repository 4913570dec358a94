"""Checks a set of nodes must pass to form a pipeline.

Each check reports every offender it finds, not only the first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from itertools import chain
from typing import TYPE_CHECKING

from ductwork.exceptions import (
    ConfirmNotUniqueError,
    InvalidPipelineError,
    OutputNotUniqueError,
)
from ductwork.pipeline.transcoding import TRANSCODING_SEPARATOR, strip_transcoding

if TYPE_CHECKING:
    from ductwork.pipeline.node import Node

#: What a uniqueness check counts for one node: its outputs, or its confirms.
_DatasetsOf = Callable[["Node"], Iterable[str]]


def check_unique_names(sources: Sequence[tuple[object, Sequence[Node]]]) -> None:
    """Check that no two nodes share a name; report the repeats under the source they came in.

    Args:
        sources: ``(pipeline, nodes)`` pairs in the order given, with ``None`` as the pipeline
            of a node given on its own ("Free nodes").
    """
    seen: set[str] = set()
    repeats: dict[int, tuple[object, list[str]]] = {}
    for source, nodes in sources:
        for node in nodes:
            if node._name in seen:
                repeats.setdefault(id(source), (source, []))[1].append(node._name)
            seen.add(node._name)
    if repeats:
        listing = "".join(
            _source_label(source) + ":\n" + "".join(f"  - {n}\n" for n in sorted(set(names)))
            for source, names in repeats.values()
        )
        raise InvalidPipelineError(
            "Pipeline nodes must have unique names. The following node names appear more "
            f"than once:\n\n{listing}\nYou can name your nodes using the last argument of "
            "'node()'."
        )


def _source_label(source: object) -> str:
    # Built only on failure: the repr of a big pipeline is not free.
    return "Free nodes" if source is None else repr(source).replace("\n", "")


def check_transcoding(nodes: Sequence[Node]) -> None:
    """Check that no dataset is used both with and without a transcoding format."""
    # A node's bases are its names themselves unless it strips a format or repeats a name.
    mixed = [n for n in nodes if n._input_bases is not n._input_names]
    mixed += [n for n in nodes if n._output_bases is not n._output_names]
    transcoded = {
        strip_transcoding(name)
        for node in mixed
        for name in chain(node._input_names, node._output_names)
        if TRANSCODING_SEPARATOR in name
    }
    if not transcoded:
        return
    bare = sorted(
        {name for node in nodes for name in chain(node._input_names, node._output_names)}
        & transcoded
    )
    if bare:
        raise InvalidPipelineError(
            "The following datasets are used with transcoding, but were referenced without "
            f"the separator: {', '.join(bare)}.\nPlease specify a transcoding option or rename "
            "the datasets."
        )


def check_unique_outputs(nodes: Sequence[Node]) -> None:
    """Check that each dataset (transcoding stripped) is produced by one node at most."""
    clashes = _shared(nodes, _output_bases_counted)
    if clashes:
        raise OutputNotUniqueError(
            f"Output(s) {sorted(clashes)} are returned by more than one nodes. Node outputs "
            f"must be unique. Produced by: {_by_dataset(clashes)}."
        )


def check_unique_confirms(nodes: Sequence[Node]) -> None:
    """Check that each dataset is confirmed by one node at most."""
    clashes = _shared(nodes, lambda node: set(node._confirms))
    if clashes:
        raise ConfirmNotUniqueError(
            f"{sorted(clashes)} datasets are confirmed by more than one node. Node confirms "
            f"must be unique. Confirmed by: {_by_dataset(clashes)}."
        )


def _shared(nodes: Sequence[Node], datasets_of: _DatasetsOf) -> dict[str, list[str]]:
    owners: dict[str, str] = {}
    clashes: dict[str, list[str]] = {}
    for node in nodes:
        for dataset in datasets_of(node):
            if dataset in owners:
                clashes.setdefault(dataset, [owners[dataset]]).append(node._name)
            else:
                owners[dataset] = node._name
    return clashes


def _output_bases_counted(node: Node) -> Iterable[str]:
    # One node writing two formats of a dataset writes it twice: keep the repeat.
    if len(node._output_bases) == len(node._output_names):
        return node._output_bases
    return map(strip_transcoding, node._output_names)


def _by_dataset(clashes: dict[str, list[str]]) -> str:
    return "; ".join(f"'{d}' by {sorted(set(clashes[d]))}" for d in sorted(clashes))

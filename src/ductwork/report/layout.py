"""Where the report draws things: the pipeline graph in layers, the timeline in worker lanes.

The graph is laid out left to right, one column per topological layer (a node sits one column
right of its deepest parent). Within a column, nodes are ordered by the barycentre heuristic
(each node moves towards the mean position of its neighbours in the previous column, then the
next, a few sweeps) which removes most edge crossings of real pipelines, deterministically:
ties keep the pipeline's topological order. Edges are cubic curves from a parent's right side
to a child's left side.

Pure: journal node records in, coordinates out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ductwork.pipeline.transcoding import strip_transcoding

__all__ = ["Box", "Edge", "GraphLayout", "Lane", "Timeline", "layout_graph", "layout_timeline"]

BOX_WIDTH = 190
BOX_HEIGHT = 34
COLUMN_GAP = 70
ROW_GAP = 14
MARGIN = 16
SWEEPS = 4

LANE_HEIGHT = 26
LABEL_WIDTH = 130
TIMELINE_WIDTH = 900


@dataclass(frozen=True)
class Box:
    """One node of the graph: its journal record and its rectangle."""

    node: Mapping[str, Any]
    x: float
    y: float


@dataclass(frozen=True)
class Edge:
    """A curve from the node that produces datasets to a node that reads them."""

    source: str
    target: str
    datasets: tuple[str, ...]
    path: str


@dataclass(frozen=True)
class GraphLayout:
    """The whole graph and the size of its drawing."""

    boxes: tuple[Box, ...]
    edges: tuple[Edge, ...]
    width: float
    height: float


def _parents(nodes: Sequence[Mapping[str, Any]]) -> list[dict[int, list[str]]]:
    """For each node: parent index -> the datasets it reads from that parent."""
    producer = {strip_transcoding(name): i for i, n in enumerate(nodes) for name in n["outputs"]}
    parents: list[dict[int, list[str]]] = []
    for node in nodes:
        found: dict[int, list[str]] = {}
        for name in node["inputs"]:
            source = producer.get(strip_transcoding(name))
            if source is not None:
                found.setdefault(source, []).append(name)
        parents.append(found)
    return parents


def _layers(parents: list[dict[int, list[str]]]) -> list[int]:
    # The journal lists nodes in topological order, so every parent's layer is known first;
    # a parent that comes later (a journal edited by hand) is treated as layer 0.
    layer: list[int] = []
    for i, found in enumerate(parents):
        layer.append(1 + max((layer[p] for p in found if p < i), default=-1))
    return layer


def _order(layer: list[int], parents: list[dict[int, list[str]]]) -> list[list[int]]:
    columns: list[list[int]] = [[] for _ in range(max(layer, default=-1) + 1)]
    for i, column in enumerate(layer):
        columns[column].append(i)
    children: list[list[int]] = [[] for _ in layer]
    for child, found in enumerate(parents):
        for parent in found:
            children[parent].append(child)
    for sweep in range(SWEEPS):
        down = sweep % 2 == 0
        indexes = range(1, len(columns)) if down else range(len(columns) - 2, -1, -1)
        for c in indexes:
            neighbour = columns[c - 1] if down else columns[c + 1]
            rank = {node: position for position, node in enumerate(neighbour)}
            links = (lambda n: list(parents[n])) if down else (lambda n: children[n])
            columns[c] = _by_barycentre(columns[c], rank, links)
    return columns


def _by_barycentre(column: list[int], rank: dict[int, int], links: Any) -> list[int]:
    def key(item: tuple[int, int]) -> tuple[float, int]:
        position, node = item
        linked = [rank[n] for n in links(node) if n in rank]
        return (sum(linked) / len(linked) if linked else float(position), position)

    return [node for _, node in sorted(enumerate(column), key=key)]


def layout_graph(nodes: Sequence[Mapping[str, Any]]) -> GraphLayout:
    """Lay out the journal's ``nodes`` (in topological order) as a layered graph."""
    parents = _parents(nodes)
    columns = _order(_layers(parents), parents)
    tallest = max((len(column) for column in columns), default=0)
    height = 2 * MARGIN + tallest * BOX_HEIGHT + max(tallest - 1, 0) * ROW_GAP
    where: dict[int, tuple[float, float]] = {}
    for c, column in enumerate(columns):
        used = len(column) * BOX_HEIGHT + max(len(column) - 1, 0) * ROW_GAP
        top = (height - used) / 2
        for row, i in enumerate(column):
            where[i] = (MARGIN + c * (BOX_WIDTH + COLUMN_GAP), top + row * (BOX_HEIGHT + ROW_GAP))
    boxes = tuple(Box(nodes[i], *where[i]) for i in sorted(where))
    edges = tuple(
        Edge(nodes[p]["name"], nodes[child]["name"], tuple(names), _curve(where[p], where[child]))
        for child, found in enumerate(parents)
        for p, names in found.items()
    )
    width = 2 * MARGIN + len(columns) * BOX_WIDTH + max(len(columns) - 1, 0) * COLUMN_GAP
    return GraphLayout(boxes, edges, width, height)


def _curve(source: tuple[float, float], target: tuple[float, float]) -> str:
    x1, y1 = source[0] + BOX_WIDTH, source[1] + BOX_HEIGHT / 2
    x2, y2 = target[0], target[1] + BOX_HEIGHT / 2
    bend = max((x2 - x1) / 2, 20.0)
    return (
        f"M{x1:.1f},{y1:.1f} C{x1 + bend:.1f},{y1:.1f} {x2 - bend:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"
    )


@dataclass(frozen=True)
class Lane:
    """One worker's row of the timeline."""

    worker: str
    y: float
    bars: tuple[tuple[Mapping[str, Any], float, float], ...]
    """Each node that ran there, with its bar's x and width."""


@dataclass(frozen=True)
class Timeline:
    """The timeline: lanes, the time axis ticks (seconds, x) and the drawing's size."""

    lanes: tuple[Lane, ...]
    ticks: tuple[tuple[float, float], ...]
    width: float
    height: float


def layout_timeline(nodes: Sequence[Mapping[str, Any]], run_start: float | None) -> Timeline:
    """Lay out a bar per node that ran, one lane per worker, time going right."""
    ran = [n for n in nodes if n.get("started") is not None and n.get("finished") is not None]
    start = min([n["started"] for n in ran] + ([run_start] if run_start else []), default=0.0)
    end = max((n["finished"] for n in ran), default=start)
    span = max(end - start, 1e-3)
    scale = TIMELINE_WIDTH / span
    workers: dict[str, list[Mapping[str, Any]]] = {}
    for node in sorted(ran, key=lambda n: (n["started"], n["name"])):
        workers.setdefault(str(node.get("worker") or "?"), []).append(node)
    lanes = tuple(
        Lane(
            worker,
            MARGIN + row * LANE_HEIGHT,
            tuple(
                (
                    n,
                    LABEL_WIDTH + (n["started"] - start) * scale,
                    (n["finished"] - n["started"]) * scale,
                )
                for n in lane
            ),
        )
        for row, (worker, lane) in enumerate(workers.items())
    )
    ticks = tuple((t, LABEL_WIDTH + t * scale) for t in _ticks(span))
    height = 2 * MARGIN + len(lanes) * LANE_HEIGHT + 24
    return Timeline(lanes, ticks, LABEL_WIDTH + TIMELINE_WIDTH + MARGIN, height)


def _ticks(span: float) -> list[float]:
    """Round tick values (1, 2 or 5 times a power of ten) covering ``span`` in 4 to 10 steps."""
    step = 10.0 ** _floor_log10(span / 5)
    for factor in (1, 2, 5, 10):
        if span / (step * factor) <= 10:
            step *= factor
            break
    count = int(span / step + 1e-9)
    return [round(i * step, 9) for i in range(count + 1)]


def _floor_log10(value: float) -> int:
    exponent = 0
    while value >= 10:
        value /= 10
        exponent += 1
    while value < 1:
        value *= 10
        exponent -= 1
    return exponent

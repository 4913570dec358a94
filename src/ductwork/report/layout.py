"""Where the report draws things: the layered pipeline graph and the timeline per worker.

The graph is laid out top-down by grandalf's Sugiyama layout (layers, crossing reduction,
Brandes-Koepf coordinates, a dummy vertex wherever an edge spans several layers). On top of it
this module routes every edge so that it never passes under a box: an edge runs straight down
through a layer only at its own vertex or dummy (which the layout keeps clear of every box),
and bends only in the empty gap between two layers. Datasets can be drawn as vertices of their
own (node -> dataset -> node) or left out (node -> node, the datasets named on the edge).

Everything here is pure: journal records in, rectangles and SVG path strings out.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ductwork.pipeline.transcoding import strip_transcoding

__all__ = [
    "DATASET_HEIGHT",
    "LANE_HEIGHT",
    "LANE_LABEL_WIDTH",
    "MARGIN",
    "NODE_HEIGHT",
    "Box",
    "Edge",
    "GraphLayout",
    "Lane",
    "Timeline",
    "layout_graph",
    "layout_timeline",
]

NODE_HEIGHT = 32
DATASET_HEIGHT = 22
LAYER_GAP = 34
BOX_GAP = 18
MARGIN = 16
ROW_WIDTH = 1600  # components are packed into rows about this wide
ORDERING_ROUNDS = 2

LANE_HEIGHT = 26
LANE_LABEL_WIDTH = 240
TIMELINE_WIDTH = 1000


def node_width(name: str) -> float:
    """A node box wide enough for its name in the report's 12 px font (within limits)."""
    return float(min(max(7.2 * len(name) + 20, 90), 300))


def dataset_width(name: str) -> float:
    """A dataset pill wide enough for its name in the report's 11 px font (within limits)."""
    return float(min(max(6.4 * len(name) + 16, 44), 280))


@dataclass(frozen=True)
class Box:
    """A vertex of the drawing: a node (``kind="node"``) or a dataset (``kind="dataset"``).

    ``x`` and ``y`` are the top-left corner; ``node`` is the journal record (for a dataset: its
    name, whether it persists, and what the journal knows of it).
    """

    kind: str
    name: str
    node: Mapping[str, Any]
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Edge:
    """A path from one box to another, carrying ``datasets``."""

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


@functools.cache
def _grandalf() -> tuple[Any, Any, Any, Any]:
    """grandalf's vertex, edge and component classes, and its layout with a faster lookup.

    Imported when a graph is first laid out, not with the report: grandalf imports numpy,
    which a program that only writes journals should not pay for.
    """
    from grandalf.graphs import Edge, Vertex, graph_core  # noqa: PLC0415 (see above)
    from grandalf.layouts import SugiyamaLayout  # noqa: PLC0415

    class Sugiyama(SugiyamaLayout):  # type: ignore[misc]
        """The layout, with its alignment conflicts in a set (it looks them up per vertex)."""

        def _detect_alignment_conflicts(self) -> None:
            super()._detect_alignment_conflicts()
            self.conflicts: Any = set(self.conflicts)

    return Vertex, Edge, graph_core, Sugiyama


class _View:
    """What grandalf needs of a vertex: its size, and where it put the centre."""

    def __init__(self, width: float, height: float) -> None:
        self.w = width
        self.h = height
        self.xy = (0.0, 0.0)


@dataclass
class _Vertex:
    key: str
    kind: str
    name: str
    record: Mapping[str, Any]
    width: float
    height: float


def _vertices_and_links(
    nodes: Sequence[Mapping[str, Any]],
    datasets: Mapping[str, Mapping[str, Any]],
    with_datasets: bool,
) -> tuple[list[_Vertex], dict[tuple[str, str], list[str]]]:
    """The drawing's vertices, and its links (source key, target key) -> dataset names."""
    vertices = [
        _Vertex(
            f"n:{n['name']}",
            "node",
            str(n["name"]),
            n,
            node_width(str(n.get("label") or n["name"])),
            0.0,
        )
        for n in nodes
    ]
    for vertex in vertices:
        vertex.height = NODE_HEIGHT
    links: dict[tuple[str, str], list[str]] = {}
    if with_datasets:
        seen: dict[str, _Vertex] = {}

        def dataset(name: str) -> str:
            base = strip_transcoding(name)
            if base not in seen:
                record = {"name": base, **(datasets.get(base) or {})}
                seen[base] = _Vertex(
                    f"d:{base}", "dataset", base, record, dataset_width(base), DATASET_HEIGHT
                )
                vertices.append(seen[base])
            return seen[base].key

        for n in nodes:
            for name in n["inputs"]:
                links.setdefault((dataset(name), f"n:{n['name']}"), []).append(name)
            for name in n["outputs"]:
                links.setdefault((f"n:{n['name']}", dataset(name)), []).append(name)
        return vertices, links
    producer = {strip_transcoding(name): n["name"] for n in nodes for name in n["outputs"]}
    for n in nodes:
        for name in n["inputs"]:
            source = producer.get(strip_transcoding(name))
            if source is not None and source != n["name"]:
                links.setdefault((f"n:{source}", f"n:{n['name']}"), []).append(name)
    return vertices, links


@dataclass
class _Placed:
    """One laid-out component: centres by key, edge control points, size."""

    centres: dict[str, tuple[float, float]]
    routes: list[tuple[str, str, list[tuple[float, float]], list[tuple[float, float]]]]
    width: float
    height: float


def _components(
    keys: Sequence[str], links: Iterable[tuple[str, str]]
) -> list[tuple[list[str], list[tuple[str, str]]]]:
    """The connected parts of the drawing (keys and links each), in the order of ``keys``."""
    parent = {key: key for key in keys}

    def root(key: str) -> str:
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    for a, b in links:
        parent[root(a)] = root(b)
    groups: dict[str, tuple[list[str], list[tuple[str, str]]]] = {}
    for key in keys:
        groups.setdefault(root(key), ([], []))[0].append(key)
    for a, b in links:
        groups[root(a)][1].append((a, b))
    return list(groups.values())


def _lay_out_component(
    keys: Sequence[str], links: Sequence[tuple[str, str]], by_key: Mapping[str, _Vertex]
) -> _Placed:
    vertex_class, edge_class, component_class, sugiyama_class = _grandalf()
    vertices = {key: vertex_class(key) for key in keys}
    for key, vertex in vertices.items():
        vertex.view = _View(by_key[key].width, by_key[key].height)
    component = component_class(
        list(vertices.values()), [edge_class(vertices[a], vertices[b]) for a, b in links]
    )
    sugiyama = sugiyama_class(component)
    sugiyama.xspace = BOX_GAP
    sugiyama.yspace = LAYER_GAP
    roots = [v for v in component.sV if not v.e_in()]
    sugiyama.init_all(roots=roots, inverted_edges=[])
    sugiyama.draw(ORDERING_ROUNDS)
    bands = _separate_and_measure(sugiyama)
    left = min(v.view.xy[0] - v.view.w / 2 for layer in sugiyama.layers for v in layer)
    top = min(band[0] for band in bands)
    centres = {v.data: (v.view.xy[0] - left, v.view.xy[1] - top) for v in component.sV}
    routes = []
    for edge in component.sE:
        source, target = edge.v
        ranks = sugiyama.grx[source].rank, sugiyama.grx[target].rank
        controls = sugiyama.ctrls.get(edge, {})
        points = [
            (controls[r].view.xy[0] - left, controls[r].view.xy[1] - top)
            for r in range(ranks[0] + 1, ranks[1])
        ]
        layer_bands = [(a - top, b - top) for a, b in bands[ranks[0] : ranks[1] + 1]]
        routes.append((source.data, target.data, points, layer_bands))
    width = max(v.view.xy[0] + v.view.w / 2 for layer in sugiyama.layers for v in layer) - left
    height = max(band[1] for band in bands) - top
    return _Placed(centres, routes, width, height)


def _separate_and_measure(sugiyama: Any) -> list[tuple[float, float]]:
    """Keep every layer's vertices (dummies too) apart by the gap; return each layer's band.

    The Brandes-Koepf coordinates grandalf computes average several alignments, which can
    bring two neighbours closer than the gap; pushing each vertex right of its left neighbour
    restores it, so a dummy's vertical line never touches a box.
    """
    bands = []
    for layer in sugiyama.layers:
        ordered = sorted(layer, key=lambda v: sugiyama.grx[v].pos)
        edge_right = float("-inf")
        for vertex in ordered:
            x, y = vertex.view.xy
            half = vertex.view.w / 2
            if x - half < edge_right + BOX_GAP:
                x = edge_right + BOX_GAP + half
                vertex.view.xy = (x, y)
            edge_right = x + half
        ys = [v.view.xy[1] for v in layer]
        half_h = max(v.view.h for v in layer) / 2
        bands.append((min(ys) - half_h, max(ys) + half_h))
    return bands


def layout_graph(
    nodes: Sequence[Mapping[str, Any]],
    datasets: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    with_datasets: bool = True,
) -> GraphLayout:
    """Lay out the journal's ``nodes`` as a layered graph, top-down.

    Args:
        nodes: Journal node records (``name``, ``inputs``, ``outputs``, ...).
        datasets: What the journal knows of each dataset, by name (``persisted``, sizes).
        with_datasets: Draw datasets as vertices of their own (else node -> node edges).
    """
    vertices, links = _vertices_and_links(nodes, datasets or {}, with_datasets)
    by_key = {vertex.key: vertex for vertex in vertices}
    placed = [
        _lay_out_component(keys, edges, by_key) for keys, edges in _components(list(by_key), links)
    ]
    # Bigger components first, then by the first vertex's position in the journal.
    position = {vertex.key: i for i, vertex in enumerate(vertices)}
    placed.sort(key=lambda p: (-len(p.centres), min(position[key] for key in p.centres)))
    boxes: list[Box] = []
    edges: list[Edge] = []
    for (dx, dy), part in zip(_pack(placed), placed, strict=True):
        for key, (cx, cy) in part.centres.items():
            vertex = by_key[key]
            boxes.append(
                Box(
                    vertex.kind,
                    vertex.name,
                    vertex.record,
                    round(dx + cx - vertex.width / 2, 1),
                    round(dy + cy - vertex.height / 2, 1),
                    vertex.width,
                    vertex.height,
                )
            )
        edges.extend(_route(part, by_key, links, dx, dy))
    boxes.sort(key=lambda box: position[("n:" if box.kind == "node" else "d:") + box.name])
    edges.sort(key=lambda edge: (edge.source, edge.target))
    width = max((box.x + box.width for box in boxes), default=0.0) + MARGIN
    height = max((box.y + box.height for box in boxes), default=0.0) + MARGIN
    return GraphLayout(tuple(boxes), tuple(edges), width, height)


def _pack(placed: Sequence[_Placed]) -> list[tuple[float, float]]:
    """Offsets that put components left to right in rows about ``ROW_WIDTH`` wide."""
    offsets: list[tuple[float, float]] = []
    x: float = MARGIN
    y: float = MARGIN
    row_height = 0.0
    for part in placed:
        if x > MARGIN and x + part.width > ROW_WIDTH:
            x, y = MARGIN, y + row_height + LAYER_GAP
            row_height = 0.0
        offsets.append((x, y))
        x += part.width + 2 * BOX_GAP
        row_height = max(row_height, part.height)
    return offsets


def _route(
    part: _Placed,
    by_key: Mapping[str, _Vertex],
    links: Mapping[tuple[str, str], list[str]],
    dx: float,
    dy: float,
) -> Iterable[Edge]:
    """Each edge as an SVG path: straight down through layers, curved only between them."""
    ports = _ports(part, by_key)
    for source, target, points, bands in part.routes:
        sy, ty = part.centres[source][1], part.centres[target][1]
        start = (ports[source, target, "out"], sy + by_key[source].height / 2)
        end = (ports[source, target, "in"], ty - by_key[target].height / 2)
        # Down from the source to the bottom of its layer's band, then for each layer crossed
        # a curve to the top of its band and a straight line to its bottom, then the target.
        xs = [start[0], *(x for x, _ in points), end[0]]
        commands = [f"M{start[0] + dx:.1f},{start[1] + dy:.1f}"]
        commands.append(f"V{bands[0][1] + dy:.1f}")
        for i in range(1, len(xs)):
            x0, x1 = xs[i - 1] + dx, xs[i] + dx
            y0, y1 = bands[i - 1][1] + dy, bands[i][0] + dy
            middle = (y0 + y1) / 2
            commands.append(f"C{x0:.1f},{middle:.1f} {x1:.1f},{middle:.1f} {x1:.1f},{y1:.1f}")
            last = i == len(xs) - 1
            commands.append(f"V{(end[1] if last else bands[i][1]) + dy:.1f}")
        yield Edge(
            by_key[source].name,
            by_key[target].name,
            tuple(links[source, target]),
            " ".join(commands),
        )


def _ports(part: _Placed, by_key: Mapping[str, _Vertex]) -> dict[tuple[str, str, str], float]:
    """Where each edge leaves its source and enters its target: spread along the box's edge.

    Edges leave a box in the order of where they go next (and enter in the order of where they
    come from), so that the ones of one box do not cross just outside it.
    """
    outgoing: dict[str, list[tuple[float, str]]] = {}
    incoming: dict[str, list[tuple[float, str]]] = {}
    for source, target, points, _ in part.routes:
        first = points[0][0] if points else part.centres[target][0]
        last = points[-1][0] if points else part.centres[source][0]
        outgoing.setdefault(source, []).append((first, target))
        incoming.setdefault(target, []).append((last, source))
    ports: dict[tuple[str, str, str], float] = {}
    for direction, table in (("out", outgoing), ("in", incoming)):
        for key, ends in table.items():
            centre, width = part.centres[key][0], by_key[key].width
            spread = min(width * 0.6, 14.0 * (len(ends) - 1))
            for i, (_, other) in enumerate(sorted(ends)):
                offset = spread * (i / (len(ends) - 1) - 0.5) if len(ends) > 1 else 0.0
                pair = (key, other) if direction == "out" else (other, key)
                ports[pair[0], pair[1], direction] = centre + offset
    return ports


@dataclass(frozen=True)
class Lane:
    """One worker's row of the timeline."""

    worker: str
    y: float
    bars: tuple[tuple[Mapping[str, Any], float, float], ...]
    """Each node that ran (or started) there, with its bar's x and width."""


@dataclass(frozen=True)
class Timeline:
    """The timeline: phases, lanes, the time axis ticks (seconds, x) and the drawing's size."""

    lanes: tuple[Lane, ...]
    ticks: tuple[tuple[float, float], ...]
    phases: tuple[tuple[str, float, float], ...]
    width: float
    height: float
    axis_y: float


def lane_key(node: Mapping[str, Any]) -> str:
    """The lane of a node: its worker, and for a worker named by its address (Dask) the pid of
    the process too, so that a worker restarted at the same address gets a lane of its own."""
    worker = str(node.get("worker") or "(worker not recorded)")
    pid = node.get("pid")
    return f"{worker} \u00b7 pid {pid}" if pid is not None and "://" in worker else worker


def layout_timeline(
    nodes: Sequence[Mapping[str, Any]],
    run_start: float | None,
    run_end: float | None = None,
    phases: Sequence[Mapping[str, Any]] = (),
    origin: float | None = None,
) -> Timeline:
    """Lay out a bar per node that started, one lane per worker, time going right.

    A node that started and never finished (interrupted, or still running) gets a bar up to
    the end of the run (or of the latest event). ``phases`` are the run's own stretches
    (``name``, ``started``, ``finished``), drawn as a labelled band above the lanes. The axis
    counts seconds from ``origin`` (the run's start, as the table does; default: the left edge).
    """
    began = [n for n in nodes if n.get("started") is not None]
    known = [n["started"] for n in began] + ([run_start] if run_start else [])
    known += [p["started"] for p in phases if p.get("started") is not None]
    start = min(known, default=0.0)
    ends = [n["finished"] for n in began if n.get("finished") is not None]
    ends += [p["finished"] for p in phases if p.get("finished") is not None]
    ends += [n["started"] for n in began]
    end = max([*ends, *([run_end] if run_end else [])], default=start)
    span = max(end - start, 1e-3)
    scale = TIMELINE_WIDTH / span
    workers: dict[str, list[Mapping[str, Any]]] = {}
    for n in sorted(began, key=lambda n: (n["started"], n["name"])):
        workers.setdefault(lane_key(n), []).append(n)
    top = MARGIN + (22 if phases else 0)
    lanes = tuple(
        Lane(
            worker,
            top + row * LANE_HEIGHT,
            tuple(
                (
                    n,
                    LANE_LABEL_WIDTH + (n["started"] - start) * scale,
                    ((n["finished"] if n.get("finished") is not None else end) - n["started"])
                    * scale,
                )
                for n in lane
            ),
        )
        for row, (worker, lane) in enumerate(sorted(workers.items()))
    )
    drawn_phases = tuple(
        (
            str(p["name"]),
            LANE_LABEL_WIDTH + (p["started"] - start) * scale,
            ((p.get("finished") or end) - p["started"]) * scale,
        )
        for p in phases
        if p.get("started") is not None
    )
    low = start - (origin if origin is not None else start)
    ticks = tuple((t, LANE_LABEL_WIDTH + (t - low) * scale) for t in _ticks(span, low))
    axis_y = top + len(lanes) * LANE_HEIGHT + 4
    return Timeline(
        lanes,
        ticks,
        drawn_phases,
        LANE_LABEL_WIDTH + TIMELINE_WIDTH + MARGIN,
        axis_y + 24,
        axis_y,
    )


def _ticks(span: float, low: float = 0.0) -> list[float]:
    """Round tick values (multiples of 1, 2 or 5 times a power of ten) from ``low`` to
    ``low + span``, in 4 to 10 steps."""
    step = 10.0 ** _floor_log10(span / 5)
    for factor in (1, 2, 5, 10):
        if span / (step * factor) <= 10:
            step *= factor
            break
    first = math.ceil(low / step - 1e-9)
    last = math.floor((low + span) / step + 1e-9)
    return [round(i * step, 9) + 0.0 for i in range(first, last + 1)]


def _floor_log10(value: float) -> int:
    exponent = 0
    while value >= 10:
        value /= 10
        exponent += 1
    while value < 1:
        value *= 10
        exponent -= 1
    return exponent

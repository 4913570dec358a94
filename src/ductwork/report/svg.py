"""The report's drawings as inline SVG: the pipeline graph and the timeline per worker.

Every piece of text that comes from a run (node, dataset and worker names, errors) goes through
:func:`html.escape`, in element text and in attribute values alike. Colours come from CSS classes
named after the status, which is looked up in a fixed table, never copied from the journal.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from ductwork.report.layout import (
    LANE_HEIGHT,
    LANE_LABEL_WIDTH,
    MARGIN,
    GraphLayout,
    Timeline,
    lane_key,
)

__all__ = [
    "ALL",
    "STATUS_CLASSES",
    "dataset_class",
    "graph_svg",
    "short_worker",
    "status_class",
    "timeline_svg",
]

_LANE_TEXT = LANE_LABEL_WIDTH - 10 - MARGIN  # pixels for a lane's label
ALL = "*"  # a graph's ``expanded`` when every namespace is drawn node by node
STATUS_CLASSES = {
    "done": "st-done",
    "failed": "st-failed",
    "skipped": "st-skipped",
    "not run": "st-notrun",
    "running": "st-running",
    "interrupted": "st-interrupted",
}


def status_class(status: object) -> str:
    """The CSS class of a node status (``st-unknown`` for anything unexpected)."""
    return STATUS_CLASSES.get(str(status), "st-unknown")


def dataset_class(record: Mapping[str, Any]) -> str:
    """The CSS class of a dataset: parameters, persisted, or in memory."""
    if str(record.get("name", "")).startswith("params:") or record.get("name") == "parameters":
        return "ds-param"
    return "ds-persisted" if record.get("persisted") else "ds-memory"


def short_worker(worker: str) -> str:
    """A worker's name as a lane label: Dask's ``tcp://`` scheme adds nothing to host:port."""
    for scheme in ("tcp://", "tls://", "inproc://"):
        if worker.startswith(scheme):
            return worker[len(scheme) :]
    return worker


def label(text: str, width: float, char_width: float) -> str:
    """``text`` cut to fit ``width`` pixels, ending in an ellipsis when cut."""
    limit = max(int(width // char_width), 4)
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def seconds(value: float) -> str:
    """A duration for people: ``850 ms`` or ``3.20 s``."""
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def node_title(node: Mapping[str, Any]) -> str:
    """The tooltip of a node's box or bar: name, status, time and worker, error."""
    lines = [str(node["name"]), f"status: {node['status']}"]
    if node.get("started") is not None and node.get("finished") is not None:
        took = seconds(node["finished"] - node["started"])
        lines.append(f"took {took} on {short_worker(lane_key(node))}")
    elif node.get("started") is not None:
        lines.append(f"started on {short_worker(lane_key(node))}, never finished")
    error = node.get("error")
    if error:
        lines.append(f"error: {error.get('type')}: {error.get('message')}")
    return "\n".join(lines)


def _dataset_title(record: Mapping[str, Any]) -> str:
    kind = {"ds-param": "parameters", "ds-persisted": "persisted", "ds-memory": "in memory"}
    lines = [str(record["name"]), kind[dataset_class(record)]]
    if record.get("type"):
        lines.append(f"type: {record['type']}")
    return "\n".join(lines)


def _group_title(record: Mapping[str, Any]) -> str:
    members = record.get("members", 0)
    return (
        f"namespace {record['name']}: {members} node{'' if members == 1 else 's'}, "
        f"status {record['status']} (the worst of its nodes)\n"
        "click for details; double-click to expand"
    )


def graph_svg(
    layout: GraphLayout,
    view: str,
    hidden: bool = False,
    records: Mapping[str, Mapping[str, Any]] | None = None,
    expanded: str = ALL,
    datasets_drawn: bool = True,
) -> str:
    """The pipeline as an SVG: a box per node coloured by status, a pill per dataset.

    ``view`` names the drawing (``datasets``, ``nodes``, ``namespaces``, ``mixed-N``) for the
    page's switches; ``records`` are the nodes as they are now, by name, when the layout was
    made from older ones (a live report keeps the layout and redraws the statuses).
    ``expanded`` names the namespaces drawn node by node (:data:`ALL`: every one; the others
    are one box each), and ``datasets_drawn`` says whether datasets are vertices here.
    """
    records = records or {}
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="graph" id="graph-{escape(view)}" '
        f'data-view="{escape(view)}" data-expanded="{escape(expanded)}" '
        f'data-datasets="{int(datasets_drawn)}" data-width="{layout.width:.0f}" '
        f'data-height="{layout.height:.0f}" viewBox="0 0 {layout.width:.0f} '
        f'{layout.height:.0f}" role="img" aria-label="pipeline graph"'
        f"{' hidden' if hidden else ''}>"
        '<defs><marker id="arrow-{0}" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0,0 L8,4 L0,8 z" class="arrowhead"/></marker>'
        "</defs>".replace("{0}", escape(view))
    ]
    for edge in layout.edges:
        parts.append(
            f'<path class="edge" d="{edge.path}" marker-end="url(#arrow-{escape(view)})" '
            f'data-source="{escape(edge.source)}" data-target="{escape(edge.target)}">'
            f"<title>{escape(', '.join(edge.datasets))}</title></path>"
        )
    for box in layout.boxes:
        text_y = box.height / 2 + 4
        if box.kind == "node":
            record = records.get(box.name, box.node)
            group = bool(record.get("namespace_group"))
            title = _group_title(record) if group else node_title(record)
            parts.append(
                f'<g class="node{" group" if group else ""} {status_class(record.get("status"))}" '
                f'data-node="{escape(box.name)}"{" data-group" if group else ""} '
                f'transform="translate({box.x:.1f},{box.y:.1f})" '
                f'tabindex="0"><title>{escape(title)}</title>'
                f'<rect width="{box.width:.0f}" height="{box.height:.0f}" rx="6"/>'
                f'<text x="{box.width / 2:.1f}" y="{text_y:.0f}">'
                f"{escape(label(str(record.get('label') or box.name), box.width - 14, 7.2))}"
                "</text></g>"
            )
        else:
            parts.append(
                f'<g class="dataset {dataset_class(box.node)}" data-dataset="{escape(box.name)}" '
                f'transform="translate({box.x:.1f},{box.y:.1f})" tabindex="0">'
                f"<title>{escape(_dataset_title(box.node))}</title>"
                f'<rect width="{box.width:.0f}" height="{box.height:.0f}" '
                f'rx="{box.height / 2:.0f}"/><text x="{box.width / 2:.1f}" y="{text_y - 1:.0f}">'
                f"{escape(label(box.name, box.width - 12, 6.4))}</text></g>"
            )
    parts.append("</svg>")
    return "".join(parts)


def timeline_svg(timeline: Timeline, element_id: str = "timeline", hidden: bool = False) -> str:
    """The run as an SVG timeline: the run's phases, a lane per worker, a bar per node."""
    width, height, axis_y = timeline.width, timeline.height, timeline.axis_y
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="{element_id}" class="timeline" '
        f"{'hidden ' if hidden else ''}"
        f'width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
        'role="img" aria-label="timeline of nodes per worker">'
    ]
    for value, x in timeline.ticks:
        parts.append(
            f'<line class="tick" x1="{x:.1f}" y1="{MARGIN}" x2="{x:.1f}" y2="{axis_y}"/>'
            f'<text class="tick-label" x="{x:.1f}" y="{axis_y + 14}">{value:g} s</text>'
        )
    for name, x, phase_width in timeline.phases:
        shown = max(phase_width, 2.0)
        parts.append(
            f'<g class="phase" data-phase="{escape(name)}"><title>{escape(name)}: '
            f"{escape(seconds(phase_width and phase_width))}</title>"
            f'<rect x="{x:.1f}" y="{MARGIN}" width="{shown:.1f}" height="18" rx="3"/>'
            f'<text x="{x + 4:.1f}" y="{MARGIN + 13}">{escape(label(name, shown - 6, 6.6))}'
            "</text></g>"
        )
    if timeline.phases:
        parts.append(
            f'<text class="lane-label" x="{MARGIN}" y="{MARGIN + 13}">the run itself</text>'
        )
    for lane in timeline.lanes:
        worker = short_worker(lane.worker)
        parts.append(
            f'<g class="lane" data-worker="{escape(lane.worker)}">'
            f'<title>{escape(lane.worker)}</title><text class="lane-label" x="{MARGIN}" '
            f'y="{lane.y + 17:.1f}">{escape(label(worker, _LANE_TEXT, 6.8))}</text>'
        )
        for node, x, bar_width in lane.bars:
            name = str(node["name"])
            shown = max(bar_width, 2.0)
            text = label(name, shown - 8, 7.0) if shown > 40 else ""
            parts.append(
                f'<g class="bar {status_class(node["status"])}" data-node="{escape(name)}" '
                f'tabindex="0"><title>{escape(node_title(node))}</title>'
                f'<rect x="{x:.1f}" y="{lane.y + 3:.1f}" width="{shown:.1f}" '
                f'height="{LANE_HEIGHT - 6}" rx="3"/>'
                f'<text x="{x + 4:.1f}" y="{lane.y + 17:.1f}">{escape(text)}</text></g>'
            )
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)

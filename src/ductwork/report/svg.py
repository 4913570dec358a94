"""The report's two drawings as inline SVG: the pipeline graph and the timeline per worker.

Every piece of text that comes from a run (node, dataset and worker names, errors) goes through
:func:`html.escape`, in element text and in attribute values alike. Colours come from CSS classes
named after the status, which is looked up in a fixed table, never copied from the journal.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from ductwork.report.layout import BOX_HEIGHT, BOX_WIDTH, LANE_HEIGHT, MARGIN, GraphLayout, Timeline

__all__ = ["STATUS_CLASSES", "graph_svg", "status_class", "timeline_svg"]

STATUS_CLASSES = {
    "done": "st-done",
    "failed": "st-failed",
    "skipped": "st-skipped",
    "not run": "st-notrun",
    "running": "st-running",
    "interrupted": "st-interrupted",
}
_LABEL_CHARS = 26


def status_class(status: object) -> str:
    """The CSS class of a node status (``st-unknown`` for anything unexpected)."""
    return STATUS_CLASSES.get(str(status), "st-unknown")


def _label(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def _node_title(node: Mapping[str, Any]) -> str:
    lines = [str(node["name"]), f"status: {node['status']}"]
    if node.get("started") is not None and node.get("finished") is not None:
        lines.append(f"took {_seconds(node['finished'] - node['started'])} on {node['worker']}")
    if node.get("reason"):
        lines.append(f"why: {node['reason']}")
    error = node.get("error")
    if error:
        lines.append(f"error: {error.get('type')}: {error.get('message')}")
    return "\n".join(lines)


def graph_svg(layout: GraphLayout) -> str:
    """The pipeline as an SVG: a box per node coloured by status, a curve per dependency."""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="graph" class="graph" '
        f'width="{layout.width:.0f}" height="{layout.height:.0f}" '
        f'viewBox="0 0 {layout.width:.0f} {layout.height:.0f}" role="img" '
        f'aria-label="pipeline graph">',
        '<defs><marker id="arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0,0 L8,4 L0,8 z" class="arrowhead"/></marker>'
        "</defs>",
    ]
    for edge in layout.edges:
        parts.append(
            f'<path class="edge" d="{edge.path}" marker-end="url(#arrow)" '
            f'data-source="{escape(edge.source)}" data-target="{escape(edge.target)}">'
            f"<title>{escape(', '.join(edge.datasets))}</title></path>"
        )
    for box in layout.boxes:
        name = str(box.node["name"])
        parts.append(
            f'<g class="node {status_class(box.node["status"])}" data-node="{escape(name)}" '
            f'transform="translate({box.x:.1f},{box.y:.1f})" tabindex="0">'
            f"<title>{escape(_node_title(box.node))}</title>"
            f'<rect width="{BOX_WIDTH}" height="{BOX_HEIGHT}" rx="6"/>'
            f'<text x="10" y="{BOX_HEIGHT / 2 + 4:.0f}">{escape(_label(name, _LABEL_CHARS))}</text>'
            "</g>"
        )
    parts.append("</svg>")
    return "".join(parts)


def timeline_svg(timeline: Timeline) -> str:
    """The run as an SVG timeline: a lane per worker, a bar per node, a time axis below."""
    width, height = timeline.width, timeline.height
    axis_y = MARGIN + len(timeline.lanes) * LANE_HEIGHT + 4
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="timeline" class="timeline" '
        f'width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
        'role="img" aria-label="timeline of nodes per worker">'
    ]
    for seconds, x in timeline.ticks:
        parts.append(
            f'<line class="tick" x1="{x:.1f}" y1="{MARGIN}" x2="{x:.1f}" y2="{axis_y}"/>'
            f'<text class="tick-label" x="{x:.1f}" y="{axis_y + 14}">{seconds:g} s</text>'
        )
    for lane in timeline.lanes:
        parts.append(
            f'<g class="lane" data-worker="{escape(lane.worker)}">'
            f'<text class="lane-label" x="{MARGIN}" y="{lane.y + 17:.1f}">'
            f"{escape(_label(lane.worker, 16))}</text>"
        )
        for node, x, bar_width in lane.bars:
            name = str(node["name"])
            shown = max(bar_width, 2.0)
            label = _label(name, int(shown // 7)) if shown > 30 else ""
            parts.append(
                f'<g class="bar {status_class(node["status"])}" data-node="{escape(name)}" '
                f'tabindex="0"><title>{escape(_node_title(node))}</title>'
                f'<rect x="{x:.1f}" y="{lane.y + 3:.1f}" width="{shown:.1f}" height="20" rx="3"/>'
                f'<text x="{x + 4:.1f}" y="{lane.y + 17:.1f}">{escape(label)}</text></g>'
            )
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)

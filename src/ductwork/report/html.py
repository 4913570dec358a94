"""The HTML run report: one self-contained file, readable with no network access.

Everything is inline: the CSS, the script, the two SVG drawings and the run's data (a JSON block
the script reads). Text from the run is escaped with :func:`html.escape`; the JSON block escapes
``<``, ``>`` and ``&`` so that no string in it can end the ``<script>`` element or open a
comment. The script finishes by setting ``data-rendered`` on the page's root element, and an
``onerror`` handler installed before it writes any script error into the page
(``#script-errors``), so that a headless browser can tell whether the report rendered.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from html import escape
from importlib.resources import files
from typing import Any

from ductwork.report.layout import layout_graph, layout_timeline
from ductwork.report.svg import STATUS_CLASSES, graph_svg, status_class, timeline_svg

__all__ = ["render_html"]

# Installed before the report's script, so that its errors (even syntax errors) are caught.
_ON_ERROR = (
    "window.onerror=function(message,source,line,column){"
    "var text=String(message)+' (line '+line+':'+column+')';"
    "var root=document.documentElement;"
    "root.setAttribute('data-script-error',text);"
    "var pre=document.getElementById('script-errors');"
    "if(pre){pre.hidden=false;pre.textContent+=text+'\\n';}};"
)
_DATA_FIELDS = (
    *("name", "status", "reason", "started", "finished", "worker", "error"),
    *("inputs", "outputs", "tags", "namespace"),
)


def _asset(name: str) -> str:
    return files("ductwork.report").joinpath("assets").joinpath(name).read_text(encoding="utf-8")


def script_json(value: Any) -> str:
    """``value`` as JSON that is safe inside a ``<script>`` element."""
    text = json.dumps(value, default=str)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _when(epoch: float | None) -> str:
    if epoch is None:
        return "unknown"
    return datetime.fromtimestamp(epoch).astimezone().isoformat(sep=" ", timespec="seconds")


def _duration(journal: Mapping[str, Any]) -> str:
    started, finished = journal.get("started"), journal.get("finished")
    if started is None or finished is None:
        return "not finished"
    return f"{finished - started:.2f} s"


def _facts(journal: Mapping[str, Any]) -> str:
    counts = journal.get("counts") or {}
    rows = [
        ("pipeline", journal.get("pipeline") or "(not named)"),
        ("runner", journal.get("runner") or "(unknown)"),
        ("started", _when(journal.get("started"))),
        ("duration", _duration(journal)),
        ("nodes", ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))),
    ]
    if journal.get("resumed_from"):
        rows.append(("resumed from", journal["resumed_from"]))
    if journal.get("command"):
        rows.append(("command", journal["command"]))
    cells = "".join(f"<dt>{escape(key)}</dt><dd>{escape(str(value))}</dd>" for key, value in rows)
    return f'<dl class="facts">{cells}</dl>'


def _failure(journal: Mapping[str, Any]) -> str:
    error = journal.get("error")
    if not error:
        return ""
    where = (
        f"Node <code>{escape(str(error['node']))}</code> failed"
        if error.get("node")
        else "The run failed"
    )
    resume = journal.get("resume_command")
    hint = f"<p>Resume with <code>{escape(resume)}</code></p>" if resume else ""
    return (
        f'<section class="failure" id="failure"><h2>{where}</h2>'
        f"<pre>{escape(str(error.get('type')))}: {escape(str(error.get('message')))}</pre>"
        f"<details><summary>Traceback</summary><pre>{escape(str(error.get('traceback') or ''))}"
        f"</pre></details>{hint}</section>"
    )


def _legend() -> str:
    items = "".join(
        f'<span><i class="{css}"></i>{escape(status)}</span>'
        for status, css in STATUS_CLASSES.items()
    )
    return f'<div class="legend">{items}</div>'


def _table(journal: Mapping[str, Any]) -> str:
    start = journal.get("started") or 0.0
    rows = []
    for number, node in enumerate(journal["nodes"], 1):
        ran = node.get("started") is not None and node.get("finished") is not None
        offset = f"{node['started'] - start:.2f}" if ran else ""
        took = f"{node['finished'] - node['started']:.3f}" if ran else ""
        error = node.get("error")
        note = f"{error.get('type')}: {error.get('message')}" if error else node.get("reason") or ""
        rows.append(
            f'<tr data-node="{escape(str(node["name"]))}"><td class="num">{number}</td>'
            f"<td>{escape(str(node['name']))}</td>"
            f'<td><i class="{status_class(node["status"])}"></i> {escape(str(node["status"]))}</td>'
            f'<td>{escape(str(node.get("worker") or ""))}</td><td class="num">{offset}</td>'
            f'<td class="num">{took}</td><td>{escape(str(note))}</td></tr>'
        )
    head = "<tr><th>#</th><th>node</th><th>status</th><th>worker</th><th>start (s)</th>"
    head += "<th>took (s)</th><th>why / error</th></tr>"
    return f'<table id="nodes"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>'


def render_html(journal: Mapping[str, Any]) -> str:
    """The report of the run that ``journal`` describes, as one HTML page."""
    nodes = journal["nodes"]
    run_id = str(journal.get("run_id"))
    status = str(journal.get("status"))
    data = {
        "run_id": run_id,
        "started": journal.get("started"),
        "nodes": [{key: node.get(key) for key in _DATA_FIELDS} for node in nodes],
    }
    graph = graph_svg(layout_graph(nodes))
    timeline = timeline_svg(layout_timeline(nodes, journal.get("started")))
    badge = (
        "run-" + status
        if status in {"success", "failed", "error", "interrupted", "running"}
        else ""
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>ductwork run {escape(run_id)}</title><style>{_asset('report.css')}</style>"
        f"<script>{_ON_ERROR}</script></head><body>"
        f'<header><h1>Run <code>{escape(run_id)}</code> <span class="badge {badge}">'
        f"{escape(status)}</span></h1>{_facts(journal)}</header>{_failure(journal)}"
        f'<section id="graph-section"><h2>Pipeline</h2>{_legend()}<div class="scroll">{graph}'
        '</div><p class="hint">Click a node for its details.</p></section>'
        '<section id="details" hidden></section>'
        f'<section id="timeline-section"><h2>Timeline, per worker</h2><div class="scroll">'
        f"{timeline}</div></section>"
        f"<section><h2>Nodes, in pipeline order</h2>{_table(journal)}</section>"
        '<pre id="script-errors" hidden></pre>'
        f'<script type="application/json" id="run-data">{script_json(data)}</script>'
        f"<script>{_asset('report.js')}</script></body></html>\n"
    )

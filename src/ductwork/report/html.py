"""The HTML run report: one self-contained file, readable with no network access.

Everything is inline: the CSS, the script, the SVG drawings and the run's data (a JSON block
the script reads). Text from the run is escaped with :func:`html.escape`; the JSON block escapes
``<``, ``>`` and ``&`` so that no string in it can end the ``<script>`` element or open a
comment. The script finishes by setting ``data-rendered`` on the page's root element, and an
``onerror`` handler installed before it writes any script error into the page
(``#script-errors``), so that a headless browser can tell whether the report rendered.

Size decides what is drawn. Up to :data:`GRAPH_WITH_DATASETS` nodes the graph is drawn twice
(with datasets as vertices of their own, and without); up to :data:`GRAPH_NODES` only without;
beyond that, a graph of namespaces (one box per top-level namespace) when the pipeline has them,
else no graph: the page opens on the table, which the script fills from the data a page at a
time, so that even a run of 10,000 nodes opens at once.

Namespaces collapse and expand one at a time: besides the whole graph and the all-collapsed one,
the report draws mixes (one namespace opened in the collapsed graph, the failed node's first;
one closed in the whole graph; every mix when there are at most four), as many as
:data:`GROUP_VIEW_BOXES` boxes allow. The page shows the drawing of the mix a person asks for,
and says so when that mix was not drawn.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from html import escape
from importlib.resources import files
from typing import Any

from ductwork.pipeline.transcoding import strip_transcoding
from ductwork.report.layout import GraphLayout, layout_graph, layout_timeline
from ductwork.report.svg import STATUS_CLASSES, graph_svg, seconds, timeline_svg
from ductwork.report.tracebacks import split_traceback

__all__ = [
    "GRAPH_NODES",
    "GRAPH_WITH_DATASETS",
    "GROUP_VIEW_BOXES",
    "TIMELINE_BARS",
    "render_html",
    "script_json",
]

GRAPH_WITH_DATASETS = 1200
GRAPH_NODES = 2500
# The views with some namespaces collapsed: at most this many boxes in all (datasets count
# double), with datasets drawn up to GROUP_DATASETS nodes.
GROUP_VIEW_BOXES = 3000
GROUP_DATASETS = 200
TIMELINE_BARS = 3000
# Reasons older journals gave every node, which say nothing.
_EMPTY_REASONS = frozenset({"selected (runs without --only-missing-outputs)"})

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
    *("name", "status", "started", "finished", "worker", "inputs", "outputs", "tags"),
    *("namespace", "attempts", "peak_rss", "cpu_time", "pid", "load_time", "save_time"),
)


def _asset(name: str) -> str:
    return files("ductwork.report").joinpath("assets").joinpath(name).read_text(encoding="utf-8")


def script_json(value: Any) -> str:
    """``value`` as JSON that is safe inside a ``<script>`` element."""
    text = json.dumps(value, default=str, separators=(",", ":"))
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


def traceback_html(error: Mapping[str, Any]) -> str:
    """The error's traceback as the terminal shows it: ductwork's own frames folded away."""
    parts = []
    for own, text in split_traceback(str(error.get("traceback") or "")):
        if own:
            frames = text.count('  File "')
            noun = "frame" if frames == 1 else "frames"
            parts.append(
                f'<details class="own-frames"><summary>{frames} ductwork {noun}</summary>'
                f"<pre>{escape(text)}</pre></details>"
            )
        else:
            parts.append(f"<pre>{escape(text)}</pre>")
    return f'<div class="traceback">{"".join(parts)}</div>'


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
        f'<section class="failure" id="failure"><h2>{where}: '
        f"<span>{escape(str(error.get('type')))}: {escape(str(error.get('message')))}</span></h2>"
        f"<details><summary>Traceback</summary>{traceback_html(error)}</details>{hint}</section>"
    )


def _legend() -> str:
    items = "".join(
        f'<span><i class="{css}"></i>{escape(status)}</span>'
        for status, css in STATUS_CLASSES.items()
    )
    items += (
        '<span><i class="ds-persisted"></i>persisted dataset</span>'
        '<span><i class="ds-memory"></i>in memory</span>'
        '<span><i class="ds-param"></i>parameters</span>'
    )
    return f'<div class="legend">{items}</div>'


def _reason(node: Mapping[str, Any]) -> str | None:
    reason = node.get("reason") or node.get("why")
    return None if not reason or reason in _EMPTY_REASONS else str(reason)


def _node_data(node: Mapping[str, Any]) -> dict[str, Any]:
    record = {key: node.get(key) for key in _DATA_FIELDS if node.get(key) is not None}
    reason = _reason(node)
    if reason:
        record["reason"] = reason
    error = node.get("error")
    if error:
        record["error"] = {
            "type": error.get("type"),
            "message": error.get("message"),
            "traceback": traceback_html(error),
        }
    return record


def _top_namespace(node: Mapping[str, Any]) -> str | None:
    return str(node["namespace"]).split(".")[0] if node.get("namespace") else None


def _namespaces(nodes: Sequence[Mapping[str, Any]]) -> list[str]:
    return sorted({top for n in nodes if (top := _top_namespace(n))})


def _collapsed(
    nodes: Sequence[Mapping[str, Any]], expanded: frozenset[str] = frozenset()
) -> list[dict[str, Any]]:
    """One pseudo-node per top-level namespace not in ``expanded``; other nodes stay themselves.

    Its status is the worst of its members' (failed over interrupted over running ...).
    """
    order = ["failed", "interrupted", "running", "not run", "skipped", "done"]
    rank = {status: i for i, status in enumerate(order)}  # anything else ranks as failed
    groups: dict[str, dict[str, Any]] = {}
    for n in nodes:
        top = _top_namespace(n)
        if top is None or top in expanded:
            groups[str(n["name"])] = dict(n)
            continue
        group = groups.setdefault(
            top,
            {
                "name": top,
                "status": n["status"],
                "inputs": set(),
                "outputs": set(),
                "members": 0,
                "namespace_group": True,
            },
        )
        group["members"] += 1
        group["inputs"].update(n["inputs"])
        group["outputs"].update(n["outputs"])
        if rank.get(str(n["status"]), 0) < rank.get(str(group["status"]), 0):
            group["status"] = n["status"]
    result = []
    for group in groups.values():
        if not group.get("namespace_group"):
            result.append(group)
            continue
        internal = group["inputs"] & group["outputs"]
        members = group["members"]
        result.append(
            {
                **group,
                "inputs": sorted(group["inputs"] - internal),
                "outputs": sorted(group["outputs"] - internal),
                "label": f"{group['name']} \u00b7 {members} node{'' if members == 1 else 's'}",
            }
        )
    return result


# Layouts by the shape of the graph: a live report redraws the same graph with new statuses.
_LAYOUTS: dict[Any, GraphLayout] = {}
_KEPT_LAYOUTS = 64


def _layout(
    nodes: Sequence[Mapping[str, Any]],
    datasets: Mapping[str, Mapping[str, Any]],
    with_datasets: bool = True,
) -> GraphLayout:
    shape = tuple((str(n["name"]), tuple(n["inputs"]), tuple(n["outputs"])) for n in nodes)
    kinds = tuple(sorted((str(k), bool((v or {}).get("persisted"))) for k, v in datasets.items()))
    key = (with_datasets, shape, kinds)
    found = _LAYOUTS.get(key)
    if found is None:
        if len(_LAYOUTS) >= _KEPT_LAYOUTS:
            _LAYOUTS.clear()
        found = _LAYOUTS[key] = layout_graph(nodes, datasets, with_datasets=with_datasets)
    return found


def _expanded_key(expanded: frozenset[str]) -> str:
    """How a view names the namespaces it shows expanded (the main views say ``*``: all)."""
    return ",".join(sorted(expanded))


def _upstream_first(
    nodes: Sequence[Mapping[str, Any]], namespaces: Sequence[str], first: str | None
) -> list[str]:
    """``namespaces`` with ``first`` and the namespaces upstream of it (nearest first) ahead:
    where a person looking into a failure goes next."""
    if first is None:
        return list(namespaces)
    producer = {strip_transcoding(name): _top_namespace(n) for n in nodes for name in n["outputs"]}
    parents: dict[str, set[str]] = {}
    for n in nodes:
        top = _top_namespace(n)
        for name in n["inputs"]:
            source = producer.get(strip_transcoding(name))
            if top is not None and source is not None and source != top:
                parents.setdefault(top, set()).add(source)
    seen, queue = {first: None}, [first]
    for name in queue:
        for parent in sorted(parents.get(name, ())):
            if parent not in seen:
                seen[parent] = None
                queue.append(parent)
    return list(seen) + [name for name in namespaces if name not in seen]


def _group_sets(namespaces: Sequence[str], whole_drawn: bool) -> list[frozenset[str]]:
    """The sets of expanded namespaces worth drawing, most useful first.

    One namespace opened from the collapsed graph (in the order given: the failed node's and
    those upstream of it first), then one closed in the whole graph when that is drawn, then,
    for a few namespaces, every other mix.
    """
    order = list(namespaces)
    everything = frozenset(namespaces)
    sets = [frozenset({name}) for name in order]
    if whole_drawn:
        sets += [everything - {name} for name in order]
        if len(namespaces) <= 4:
            sets += [
                frozenset(combination)
                for size in range(2, len(namespaces) - 1)
                for combination in itertools.combinations(order, size)
            ]
    unique = dict.fromkeys(s for s in sets if s and s != everything)
    return list(unique)


def _group_views(
    nodes: Sequence[Mapping[str, Any]],
    datasets: Mapping[str, Mapping[str, Any]],
    first: str | None,
    whole_drawn: bool,
) -> str:
    """The drawings with some namespaces collapsed, within :data:`GROUP_VIEW_BOXES` boxes."""
    members: dict[str, int] = {}
    outside = 0
    for n in nodes:
        top = _top_namespace(n)
        if top is None:
            outside += 1
        else:
            members[top] = members.get(top, 0) + 1
    drawings: list[str] = []
    spent = 0
    kinds = [True, False] if len(nodes) <= GROUP_DATASETS else [False]
    order = _upstream_first(nodes, sorted(members), first)
    for expanded in _group_sets(order, whole_drawn):
        # Boxes of this mix, counted before drawing it: the others' boxes, and these' nodes.
        boxes = outside + len(members) - len(expanded) + sum(members[n] for n in expanded)
        if spent + boxes > GROUP_VIEW_BOXES:
            if spent + outside + len(members) > GROUP_VIEW_BOXES:
                break  # not even the smallest mix fits
            continue
        groups = _collapsed(nodes, expanded)
        records = {str(g["name"]): g for g in groups}
        key = _expanded_key(expanded)
        for datasets_drawn in kinds:
            cost = boxes * (2 if datasets_drawn else 1)
            if spent + cost > GROUP_VIEW_BOXES:
                continue
            spent += cost
            view = f"mixed-{len(drawings)}"
            layout = _layout(groups, datasets if datasets_drawn else {}, datasets_drawn)
            drawings.append(graph_svg(layout, view, True, records, key, datasets_drawn))
    return "".join(drawings)


def _graph_views(journal: Mapping[str, Any]) -> tuple[str, list[str], str]:
    """The graph drawings, the names of the main views drawn, and a note on what was left out."""
    nodes = journal["nodes"]
    datasets = journal.get("datasets") or {}
    records = {str(n["name"]): n for n in nodes}
    count = len(nodes)
    if count <= GRAPH_WITH_DATASETS:
        with_datasets = graph_svg(_layout(nodes, datasets), "datasets", records=records)
        without = graph_svg(
            _layout(nodes, datasets, False), "nodes", True, records, datasets_drawn=False
        )
        views, note = ["datasets", "nodes"], ""
        drawings = with_datasets + without
    elif count <= GRAPH_NODES:
        drawings = graph_svg(
            _layout(nodes, datasets, False), "nodes", records=records, datasets_drawn=False
        )
        views = ["nodes"]
        note = f"Datasets are not drawn for pipelines over {GRAPH_WITH_DATASETS} nodes."
    else:
        views, drawings = [], ""
        note = f"The graph of {count} nodes is too big to draw; the table lists every node."
    if _namespaces(nodes) and count > 1:
        groups = _collapsed(nodes)
        if len(groups) <= GRAPH_NODES:
            hidden = bool(views)
            by_name = {str(g["name"]): g for g in groups}
            drawn = graph_svg(_layout(groups, {}, False), "namespaces", hidden, by_name, "", False)
            failed = records.get(str((journal.get("error") or {}).get("node")))
            first = _top_namespace(failed) if failed else None
            drawings += drawn + _group_views(nodes, datasets, first, bool(views))
            views.append("namespaces")
            if not hidden:
                note = (
                    f"{count} nodes are too many to draw one by one: each box is a namespace "
                    "(click it for its nodes; expand it where the page says it can)."
                )
    return drawings, views, note


def _graph_section(journal: Mapping[str, Any]) -> str:
    drawings, views, note = _graph_views(journal)
    if not views:
        return (
            f'<section id="graph-section"><h2>Pipeline</h2><p class="note">{escape(note)}</p>'
            "</section>"
        )
    switches = []
    if "datasets" in views:
        switches.append(
            '<label><input type="checkbox" id="show-datasets" checked> datasets</label>'
        )
    if "namespaces" in views:
        switches.append(
            '<span class="namespace-switch">namespaces '
            '<button type="button" id="collapse-all">collapse all</button>'
            '<button type="button" id="expand-all">expand all</button></span>'
        )
    toolbar = (
        '<div class="toolbar">'
        + "".join(switches)
        + '<button type="button" id="zoom-fit">fit</button>'
        '<button type="button" id="zoom-in" aria-label="zoom in">+</button>'
        '<button type="button" id="zoom-out" aria-label="zoom out">\u2212</button>'
        '<span class="hint">drag to pan, wheel to zoom, click a box for details</span></div>'
    )
    shown_note = f'<p class="note">{escape(note)}</p>' if note else ""
    return (
        f'<section id="graph-section"><h2>Pipeline</h2>{toolbar}{_legend()}{shown_note}'
        f'<div id="graph-view" class="graph-view">{drawings}</div></section>'
    )


def _filters(journal: Mapping[str, Any]) -> str:
    statuses = sorted({str(n["status"]) for n in journal["nodes"]})
    status_options = "".join(f'<option value="{escape(s)}">{escape(s)}</option>' for s in statuses)
    namespaces = _namespaces(journal["nodes"])
    namespace_select = ""
    if namespaces:
        options = "".join(f'<option value="{escape(n)}">{escape(n)}</option>' for n in namespaces)
        namespace_select = (
            '<label>namespace <select id="filter-namespace"><option value="">all</option>'
            f"{options}</select></label>"
        )
    return (
        '<div class="toolbar filters"><label>status <select id="filter-status">'
        f'<option value="">all</option>{status_options}</select></label>{namespace_select}'
        '<label>name <input type="search" id="filter-name" placeholder="part of a name">'
        '</label><span id="filter-count" class="hint"></span></div>'
    )


def _phases(journal: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The run's own stretches: those its journal records, then those its times tell."""
    given = journal.get("phases")
    phases = [p for p in given if isinstance(p, dict)] if isinstance(given, list) else []
    started = journal.get("started")
    ran = [n for n in journal["nodes"] if n.get("started") is not None]
    if started is None or not ran:
        return phases
    first = min(n["started"] for n in ran)
    phases.append(
        {"name": "validation and workers starting", "started": started, "finished": first}
    )
    last = max((n["finished"] for n in ran if n.get("finished") is not None), default=None)
    if last is not None:
        phases.append({"name": "nodes running", "started": first, "finished": last})
        if journal.get("finished") is not None:
            phases.append(
                {"name": "shutting down", "started": last, "finished": journal["finished"]}
            )
    return phases


def _metric_headers(nodes: Sequence[Mapping[str, Any]]) -> str:
    """Table columns for the measurements, when the runner took any."""
    if not any(n.get("cpu_time") is not None or n.get("peak_rss") is not None for n in nodes):
        return ""
    return (
        '<th data-key="io" class="num" title="loading its inputs and saving its outputs">'
        "I/O (s)</th>"
        '<th data-key="cpu" class="num">CPU (s)</th>'
        '<th data-key="rss" class="num" title="peak resident memory of the node\'s process">'
        "peak RSS (MB)</th>"
    )


# When the nodes ran for less than this share of the run, the timeline opens on them alone.
_NODES_SHARE = 0.3


def _timelines(journal: Mapping[str, Any]) -> str:
    """The timeline of the whole run; and, when start-up took most of it, one of the nodes'
    stretch alone, shown first (a switch shows the whole run)."""
    nodes, finished = journal["nodes"], journal.get("finished")
    phases = _phases(journal)
    origin = journal.get("started")
    whole = layout_timeline(nodes, origin, finished, phases, origin)
    starts = [n["started"] for n in nodes if n.get("started") is not None]
    known = [p["started"] for p in phases if p.get("started") is not None] + starts
    ends = [n["finished"] for n in nodes if n.get("finished") is not None] + starts
    end = max([*ends, *([finished] if finished else [])], default=None)
    if not starts or end is None or end <= min(known):
        return f'<div class="scroll">{timeline_svg(whole)}</div>'
    first, begin = min(starts), min(known)
    if (end - first) >= _NODES_SHARE * (end - begin):
        return f'<div class="scroll">{timeline_svg(whole)}</div>'
    clipped = [
        {**p, "started": max(p["started"], first)}
        for p in phases
        if p.get("started") is not None and (p.get("finished") or end) > first
    ]
    zoomed = layout_timeline(nodes, first, finished, clipped, origin)
    switch = (
        '<div class="toolbar"><label><input type="checkbox" id="timeline-whole-run"> show the '
        f"whole run, with the {escape(seconds(first - begin))} of start-up before the first node"
        "</label></div>"
    )
    return (
        f'{switch}<div class="scroll">{timeline_svg(zoomed)}'
        f"{timeline_svg(whole, 'timeline-whole', hidden=True)}</div>"
    )


def _timeline_section(journal: Mapping[str, Any]) -> str:
    nodes = journal["nodes"]
    began = sum(1 for n in nodes if n.get("started") is not None)
    if began > TIMELINE_BARS:
        drawing = (
            f'<p class="note">{began} bars are too many to draw; the table below has every '
            "node's start and duration, sortable.</p>"
        )
    else:
        drawing = _timelines(journal)
    return (
        f'<section id="timeline-section"><h2>Timeline, per worker</h2>{drawing}</section>'
        f'<section id="table-section"><h2>Nodes</h2>{_filters(journal)}'
        '<table id="nodes"><thead><tr>'
        '<th data-key="order" class="num">#</th><th data-key="name">node</th>'
        '<th data-key="status">status</th><th data-key="worker">worker</th>'
        '<th data-key="start" class="num">start (s)</th>'
        '<th data-key="took" class="num">took (s)</th>'
        f"{_metric_headers(nodes)}"
        '<th data-key="note">why / error</th></tr></thead><tbody></tbody></table>'
        '<p><button type="button" id="more-rows" hidden>show more</button></p></section>'
    )


def render_html(journal: Mapping[str, Any], *, live: bool = False, version: str = "") -> str:
    """The report of the run that ``journal`` describes, as one HTML page.

    Args:
        journal: A journal as :func:`~ductwork.report.load_journal` returns it.
        live: The page is served by ``ductwork report --live``: it asks the server for a new
            version as the run goes on.
        version: For a live page, the version of the journal it shows (the server's token).
    """
    nodes = journal["nodes"]
    run_id = str(journal.get("run_id"))
    status = str(journal.get("status"))
    failed = journal.get("error") or {}
    data = {
        "run_id": run_id,
        "status": status,
        "started": journal.get("started"),
        "failed": failed.get("node"),
        "live": live,
        "version": version,
        "nodes": [_node_data(node) for node in nodes],
        "datasets": journal.get("datasets") or {},
    }
    badge = (
        "run-" + status
        if status in {"success", "failed", "error", "interrupted", "running"}
        else ""
    )
    live_badge = '<span class="badge live" id="live-badge">live</span>' if live else ""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>ductwork run {escape(run_id)}</title><style>{_asset('report.css')}</style>"
        f"<script>{_ON_ERROR}</script></head><body>"
        f'<header><h1>Run <code>{escape(run_id)}</code> <span class="badge {badge}" '
        f'id="run-status">{escape(status)}</span>{live_badge}</h1>{_facts(journal)}</header>'
        f'<main id="report">{_failure(journal)}{_graph_section(journal)}'
        '<section id="details" hidden></section>'
        f"{_timeline_section(journal)}</main>"
        '<pre id="script-errors" hidden></pre>'
        f'<script type="application/json" id="run-data">{script_json(data)}</script>'
        f"<script>{_asset('report.js')}</script></body></html>\n"
    )

"""The report's pure parts: graph and timeline layout, HTML escaping, the Chrome trace."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from typing import Any

import pytest

from ductwork.report import render_chrome_trace, render_html
from ductwork.report.html import script_json
from ductwork.report.layout import BOX_HEIGHT, BOX_WIDTH, layout_graph, layout_timeline
from tests.report.conftest import EVIL, hostile_journal


def _node(name: str, inputs: list[str], outputs: list[str], **more: Any) -> dict[str, Any]:
    return {"name": name, "inputs": inputs, "outputs": outputs, "status": "done", **more}


def test_graph_columns_are_topological_layers() -> None:
    nodes = [
        _node("a", [], ["x"]),
        _node("b", ["x"], ["y"]),
        _node("c", ["x"], ["z@pandas"]),
        _node("d", ["y", "z@spark"], ["w"]),
        _node("lonely", [], ["v"]),
    ]
    layout = layout_graph(nodes)
    column = {box.node["name"]: box.x for box in layout.boxes}
    assert column["a"] == column["lonely"] < column["b"] == column["c"] < column["d"]
    edges = {(edge.source, edge.target): edge.datasets for edge in layout.edges}
    assert edges == {
        ("a", "b"): ("x",),
        ("a", "c"): ("x",),
        ("b", "d"): ("y",),
        ("c", "d"): ("z@spark",),
    }
    assert layout.width >= max(box.x for box in layout.boxes) + BOX_WIDTH
    assert layout.height >= max(box.y for box in layout.boxes) + BOX_HEIGHT


def test_graph_boxes_never_overlap_and_layout_is_deterministic() -> None:
    nodes = [_node(f"n{i}", [f"d{i // 3}"] if i >= 3 else [], [f"d{i}"]) for i in range(30)]
    first, second = layout_graph(nodes), layout_graph(list(nodes))
    assert first == second
    spots = {(box.x, box.y) for box in first.boxes}
    assert len(spots) == len(nodes)


def test_barycentre_ordering_uncrosses_edges() -> None:
    # Parents p0, p1; children listed crosswise: c0 reads p1, c1 reads p0.
    nodes = [
        _node("p0", [], ["a"]),
        _node("p1", [], ["b"]),
        _node("c0", ["b"], ["x"]),
        _node("c1", ["a"], ["y"]),
    ]
    y = {box.node["name"]: box.y for box in layout_graph(nodes).boxes}
    assert (y["p0"] < y["p1"]) == (y["c1"] < y["c0"])


def test_timeline_lanes_per_worker() -> None:
    nodes = [
        _node("a", [], ["x"], started=10.0, finished=11.0, worker="w1"),
        _node("b", [], ["y"], started=10.5, finished=12.0, worker="w2"),
        _node("c", ["x"], ["z"], started=11.0, finished=13.0, worker="w1"),
        _node("skipped", [], ["q"], started=None, finished=None, worker=None),
    ]
    timeline = layout_timeline(nodes, run_start=9.0)
    assert [lane.worker for lane in timeline.lanes] == ["w1", "w2"]
    bars = {node["name"]: (x, width) for lane in timeline.lanes for node, x, width in lane.bars}
    assert set(bars) == {"a", "b", "c"}
    assert bars["a"][0] + bars["a"][1] == pytest.approx(bars["c"][0])
    assert bars["c"][1] == pytest.approx(2 * bars["a"][1])
    assert [seconds for seconds, _ in timeline.ticks][:3] == [0.0, 0.5, 1.0]


def test_script_json_cannot_close_the_script() -> None:
    text = script_json({"x": EVIL})
    assert not {"<", ">", "&"} & set(text)
    assert json.loads(text) == {"x": EVIL}


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_html_escapes_everything_from_the_journal() -> None:
    page = render_html(hostile_journal())
    assert "alert(1)</script>" not in page
    assert "<!-- &" not in page
    parser = _Collect()
    parser.feed(page)
    # Only the report's own three scripts, whatever the journal holds.
    assert parser.tags.count("script") == 3
    assert EVIL in "".join(parser.text), "the text is shown, escaped, not dropped"
    data = re.search(r'<script type="application/json" id="run-data">(.*?)</script>', page)
    assert data is not None
    assert json.loads(data.group(1))["nodes"][0]["error"] is None
    assert json.loads(data.group(1))["nodes"][1]["error"]["message"] == EVIL


def test_html_is_self_contained(failed_journal: dict[str, Any]) -> None:
    page = render_html(failed_journal)
    assert not re.search(r"(src|href)=\"(https?:)?//", page), "nothing from the network"
    assert "<link" not in page
    assert page.count('class="node ') == len(failed_journal["nodes"])
    assert 'class="node st-failed" data-node="d"' in page
    assert 'id="failure"' in page


def test_chrome_trace_events(failed_journal: dict[str, Any]) -> None:
    trace = json.loads(render_chrome_trace(failed_journal))
    events = trace["traceEvents"]
    complete = {e["name"]: e for e in events if e["ph"] == "X"}
    ran = {n["name"] for n in failed_journal["nodes"] if n["finished"] is not None}
    assert set(complete) == ran
    assert complete["d"]["args"]["status"] == "failed"
    assert EVIL in complete["d"]["args"]["error"]
    assert all(e["ts"] >= 0 and e["dur"] >= 0 for e in complete.values())
    threads = {e["args"]["name"]: e["tid"] for e in events if e["name"] == "thread_name"}
    assert {complete[name]["tid"] for name in complete} == set(threads.values())
    assert set(threads) <= {"ductwork-0", "ductwork-1"}
    assert trace["otherData"]["status"] == "failed"
    assert (
        set(trace["otherData"]["not_timed"]) == {n["name"] for n in failed_journal["nodes"]} - ran
    )


def test_chrome_trace_of_a_hostile_journal_is_valid_json() -> None:
    trace = json.loads(render_chrome_trace(hostile_journal()))
    assert trace["otherData"]["run_id"] == EVIL

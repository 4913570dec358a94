"""The report's pure parts: graph and timeline layout, HTML escaping, the Chrome trace."""

from __future__ import annotations

import itertools
import json
import re
from html import escape
from html.parser import HTMLParser
from typing import Any

import pytest

from ductwork.report import render_chrome_trace, render_html
from ductwork.report.html import GRAPH_NODES, script_json, traceback_html
from ductwork.report.layout import Box, GraphLayout, layout_graph, layout_timeline
from ductwork.report.tracebacks import split_traceback
from tests.report.conftest import EVIL, hostile_journal


def _node(name: str, inputs: list[str], outputs: list[str], **more: Any) -> dict[str, Any]:
    return {"name": name, "inputs": inputs, "outputs": outputs, "status": "done", **more}


def _boxes(layout: GraphLayout) -> dict[str, Box]:
    return {box.name: box for box in layout.boxes}


def _points(path: str) -> list[tuple[float, float]]:
    """The end points of a path's segments (M, V and C commands)."""
    points: list[tuple[float, float]] = []
    for command, numbers in re.findall(r"([MVC])([^MVC]*)", path):
        values = [float(v) for v in re.findall(r"-?[\d.]+", numbers)]
        if command == "V":
            points.append((points[-1][0], values[0]))
        else:
            points.append((values[-2], values[-1]))
    return points


def test_graph_layers_go_down_in_topological_order() -> None:
    nodes = [
        _node("a", [], ["x"]),
        _node("b", ["x"], ["y"]),
        _node("c", ["x"], ["z@pandas"]),
        _node("d", ["y", "z@spark"], ["w"]),
        _node("lonely", [], ["v"]),
    ]
    layout = layout_graph(nodes, with_datasets=False)
    y = {name: box.y for name, box in _boxes(layout).items()}
    assert y["a"] < y["b"] == y["c"] < y["d"]
    edges = {(edge.source, edge.target): edge.datasets for edge in layout.edges}
    assert edges == {
        ("a", "b"): ("x",),
        ("a", "c"): ("x",),
        ("b", "d"): ("y",),
        ("c", "d"): ("z@spark",),
    }
    assert layout.width >= max(box.x + box.width for box in layout.boxes)
    assert layout.height >= max(box.y + box.height for box in layout.boxes)


def test_datasets_are_vertices_of_their_own_with_transcoding_merged() -> None:
    nodes = [_node("a", ["raw"], ["z@pandas"]), _node("b", ["z@spark"], ["out"])]
    layout = layout_graph(nodes, {"z": {"persisted": True}})
    boxes = _boxes(layout)
    assert {box.name for box in layout.boxes if box.kind == "dataset"} == {"raw", "z", "out"}
    assert boxes["z"].node["persisted"] is True
    assert boxes["raw"].y < boxes["a"].y < boxes["z"].y < boxes["b"].y < boxes["out"].y
    assert {(e.source, e.target) for e in layout.edges} == {
        ("raw", "a"),
        ("a", "z"),
        ("z", "b"),
        ("b", "out"),
    }


def _long_edges_pipeline() -> list[dict[str, Any]]:
    # Edges that skip layers (a -> e, b -> f) beside a chain of boxes they must go around.
    return [
        _node("a", [], ["a_out"]),
        _node("b", ["a_out"], ["b_out"]),
        _node("c", ["b_out"], ["c_out"]),
        _node("d", ["c_out"], ["d_out"]),
        _node("e", ["d_out", "a_out"], ["e_out"]),
        _node("f", ["e_out", "b_out", "a_out"], ["f_out"]),
        *(_node(f"side{i}", ["a_out"], [f"s{i}"]) for i in range(4)),
        _node("g", ["s0", "s1", "s2", "s3", "c_out"], ["g_out"]),
    ]


@pytest.mark.parametrize("with_datasets", [True, False])
def test_no_edge_passes_through_a_box(with_datasets: bool) -> None:
    layout = layout_graph(_long_edges_pipeline(), with_datasets=with_datasets)
    boxes = layout.boxes
    for i, box in enumerate(boxes):
        for other in boxes[i + 1 :]:
            apart = (
                box.x + box.width <= other.x
                or other.x + other.width <= box.x
                or box.y + box.height <= other.y
                or other.y + other.height <= box.y
            )
            assert apart, (box.name, other.name)
    for edge in layout.edges:
        points = _points(edge.path)
        # Straight segments are vertical; check them against every box (curves are only drawn
        # in the empty gaps between layers, which the browser test checks point by point).
        for (x0, y0), (x1, y1) in itertools.pairwise(points):
            if x0 != x1:
                continue
            low, high = sorted((y0, y1))
            for box in boxes:
                inside_x = box.x < x0 < box.x + box.width
                overlap = low < box.y + box.height - 0.5 and high > box.y + 0.5
                assert not (inside_x and overlap), (edge.source, edge.target, box.name)


def test_layout_is_deterministic() -> None:
    nodes = [_node(f"n{i}", [f"d{i // 3}"] if i >= 3 else [], [f"d{i}"]) for i in range(30)]
    assert layout_graph(nodes) == layout_graph(list(nodes))


def test_disconnected_parts_are_packed_in_rows() -> None:
    nodes = [_node(f"n{i}", [], [f"d{i}"]) for i in range(60)]
    layout = layout_graph(nodes, with_datasets=False)
    assert layout.width <= 1700
    assert len({box.y for box in layout.boxes}) > 1


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
    nodes = json.loads(data.group(1))["nodes"]
    assert "error" not in nodes[0]
    assert nodes[1]["error"]["message"] == EVIL
    # The traceback goes into the page as markup the report built: every bit of it escaped.
    assert EVIL not in nodes[1]["error"]["traceback"]
    assert escape(EVIL) in nodes[1]["error"]["traceback"]


def _traceback_through_ductwork() -> str:
    return (
        "Traceback (most recent call last):\n"
        '  File "/site/ductwork/runner/loop.py", line 10, in run_loop\n'
        "    outcome = run(node)\n"
        '  File "/site/ductwork/pipeline/node.py", line 20, in run\n'
        "    return self.func(*args)\n"
        "           ^^^^^^^^^^^^^^^^\n"
        '  File "/home/me/project/nodes.py", line 3, in fail\n'
        "    raise ValueError('bad')\n"
        "ValueError: bad\n"
    )


def test_tracebacks_fold_ductworks_frames_and_keep_the_users() -> None:
    pieces = split_traceback(_traceback_through_ductwork())
    assert [own for own, _ in pieces] == [False, True, False]
    assert pieces[1][1].count('  File "') == 2
    assert "ductwork" not in pieces[2][1]
    assert "/home/me/project/nodes.py" in pieces[2][1]
    page = traceback_html({"traceback": _traceback_through_ductwork()})
    assert "<summary>2 ductwork frames</summary>" in page
    assert page.index("Traceback (most recent") < page.index("ductwork frames")
    assert page.index("ductwork frames") < page.index("nodes.py")


def test_a_reason_that_says_nothing_is_not_shown() -> None:
    journal = {
        "run_id": "r",
        "status": "success",
        "nodes": [
            _node("a", [], ["x"], reason="selected (runs without --only-missing-outputs)"),
            _node("b", ["x"], ["y"], reason="output 'y' is missing"),
        ],
    }
    page = render_html(journal)
    data = re.search(r'<script type="application/json" id="run-data">(.*?)</script>', page)
    assert data is not None
    nodes = json.loads(data.group(1))["nodes"]
    assert "reason" not in nodes[0]
    assert nodes[1]["reason"] == "output 'y' is missing"


def test_big_pipelines_fall_back_to_namespaces_then_to_the_table() -> None:
    many = GRAPH_NODES + 1
    nodes = [
        _node(
            f"ns{i % 5}.n{i}",
            [f"d{i - 5}"] if i >= 5 else [],
            [f"d{i}"],
            namespace=f"ns{i % 5}",
        )
        for i in range(many)
    ]
    page = render_html({"run_id": "r", "status": "success", "nodes": nodes})
    assert 'data-view="namespaces"' in page
    assert 'data-view="datasets"' not in page
    collapsed = _drawing(page, "namespaces")
    assert collapsed.count('class="node group ') == 5
    assert 'data-expanded=""' in collapsed
    flat = [{**n, "namespace": None} for n in nodes]
    page = render_html({"run_id": "r", "status": "success", "nodes": flat})
    assert 'class="graph"' not in page
    assert "too big to draw" in page


def _drawing(page: str, view: str) -> str:
    found = re.search(rf'<svg [^>]*data-view="{view}".*?</svg>', page, re.S)
    assert found is not None, view
    return found.group(0)


def _drawings(page: str) -> dict[tuple[str, str], str]:
    """Every graph drawing by (namespaces expanded, datasets drawn)."""
    return {
        (m.group(1), m.group(2)): m.group(0)
        for m in re.finditer(
            r'<svg [^>]*class="graph"[^>]*data-expanded="([^"]*)" data-datasets="(\d)".*?</svg>',
            page,
            re.S,
        )
    }


def _namespaced(groups: int, size: int) -> list[dict[str, Any]]:
    """``groups`` namespaces of ``size`` nodes in a chain; each group reads the one before."""
    nodes = []
    for g in range(groups):
        for i in range(size):
            inputs = [f"ns{g}.d{i - 1}"] if i else ([f"ns{g - 1}.d{size - 1}"] if g else [])
            nodes.append(_node(f"ns{g}.n{i}", inputs, [f"ns{g}.d{i}"], namespace=f"ns{g}.inner"))
    nodes.append(_node("free", [f"ns{groups - 1}.d{size - 1}"], ["out"]))
    return nodes


def test_each_namespace_collapses_and_expands_on_its_own() -> None:
    page = render_html({"run_id": "r", "status": "success", "nodes": _namespaced(3, 4)})
    drawings = _drawings(page)
    # Three namespaces: every mix is drawn, with datasets and without.
    expected = {"*", "", "ns0", "ns1", "ns2", "ns0,ns1", "ns0,ns2", "ns1,ns2"}
    assert {key for key, _ in drawings} == expected
    assert all((key, kind) in drawings for key in expected - {""} for kind in "01")
    one_open = drawings[("ns1", "0")]
    assert 'data-node="ns1.n0"' in one_open
    assert 'data-node="ns0.n0"' not in one_open
    assert one_open.count('class="node group ') == 2  # ns0 and ns2, one box each
    assert 'data-node="ns0" data-group' in one_open
    assert 'data-node="free"' in one_open
    # An edge into the collapsed group: from its box, not from a member it hides.
    assert 'data-source="ns0" data-target="ns1.n0"' in one_open
    with_datasets = drawings[("ns1", "1")]
    assert 'data-dataset="ns1.d0"' in with_datasets
    assert 'data-dataset="ns0.d1"' not in with_datasets  # inside a collapsed group


def test_collapsed_views_stay_within_their_budget() -> None:
    from ductwork.report.html import GROUP_VIEW_BOXES

    nodes = _namespaced(60, 20)  # 1,201 nodes: only node-only drawings
    failed = "ns42.n3"
    for n in nodes:
        if n["name"] == failed:
            n["status"] = "failed"
    journal = {"run_id": "r", "status": "failed", "nodes": nodes, "error": {"node": failed}}
    drawings = _drawings(render_html(journal))
    mixed = {key: svg for key, svg in drawings.items() if key[0] not in {"*", ""}}
    assert mixed, "some namespaces can be opened one by one"
    assert ("ns42", "0") in mixed  # the failed node's namespace first
    assert ("ns41", "0") in mixed  # then those upstream of it
    assert ("ns59", "0") not in mixed  # downstream and far: left out when the budget ends
    assert sum(svg.count("<g class=") for svg in mixed.values()) <= GROUP_VIEW_BOXES


def test_timeline_phases_and_a_bar_for_an_interrupted_node() -> None:
    nodes = [
        _node("a", [], ["x"], started=10.0, finished=11.0, worker="tcp://127.0.0.1:4000"),
        _node(
            "b",
            [],
            ["y"],
            started=10.5,
            finished=None,
            worker="tcp://127.0.0.1:4001",
            status="interrupted",
        ),
    ]
    journal = {
        "run_id": "r",
        "status": "interrupted",
        "started": 9.0,
        "finished": 12.0,
        "phases": [{"name": "loading the project", "started": 8.0, "finished": 9.0}],
        "nodes": nodes,
    }
    page = render_html(journal)
    for phase in (
        "loading the project",
        "validation and workers starting",
        "nodes running",
        "shutting down",
    ):
        assert f'data-phase="{phase}"' in page
    assert 'class="bar st-interrupted" data-node="b"' in page
    assert ">127.0.0.1:4000</text>" in page
    assert ">127.0.0.1:4001</text>" in page


def test_html_is_self_contained(failed_journal: dict[str, Any]) -> None:
    page = render_html(failed_journal)
    assert not re.search(r"(src|href)=\"(https?:)?//", page), "nothing from the network"
    assert "<link" not in page
    assert page.count('class="node ') == 2 * len(failed_journal["nodes"]), "two views"
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


def test_measurements_get_table_columns_only_when_taken() -> None:
    plain = {"run_id": "r", "status": "success", "nodes": [_node("a", [], ["x"])]}
    assert 'class="num">CPU (s)' not in render_html(plain)
    measured = {**plain, "nodes": [_node("a", [], ["x"], cpu_time=0.5, peak_rss=3_000_000)]}
    page = render_html(measured)
    assert 'class="num">CPU (s)' in page
    assert 'data-key="rss"' in page
    assert '"cpu_time":0.5' in page

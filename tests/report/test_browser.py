"""The HTML report in a real headless Chromium, checked the way a person would look at it.

Each test opens a report over the DevTools protocol (:mod:`tests.report.chromium`) and reads
what the page shows: where boxes and edges are on screen, what is visible after a click, which
rows the table lists. Without a browser these tests are skipped, saying so.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from ductwork.io import DataCatalog
from ductwork.pipeline import Pipeline, node
from ductwork.report import RunJournal, render_html
from ductwork.runner import SequentialRunner, ThreadRunner
from tests.report.chromium import BROWSER, Chromium

pytestmark = [
    pytest.mark.skipif(
        BROWSER is None,
        reason="no Chromium on PATH: `.ci/run` installs Debian's `chromium` (apt-get install "
        "chromium); the report's browser checks need it",
    ),
    pytest.mark.timeout(180),
]
EXAMPLE = Path(__file__).parents[2] / "examples" / "spaceflights"

# Every edge of the visible graph, sampled every 2 px on screen, against every box's rectangle
# (shrunk by a pixel: an edge may touch the box it leaves or enters); and every pair of boxes.
GEOMETRY = """(() => {
  const svg = document.querySelector("svg.graph:not([hidden])");
  const boxes = Array.from(svg.querySelectorAll("g.node, g.dataset")).map((g) => {
    const r = g.querySelector("rect").getBoundingClientRect();
    return {name: g.dataset.node || g.dataset.dataset, l: r.left, t: r.top, r: r.right,
            b: r.bottom};
  });
  const crossings = [];
  const edges = svg.querySelectorAll("path.edge");
  edges.forEach((path) => {
    const m = path.getScreenCTM();
    const length = path.getTotalLength();
    for (let s = 0; s <= length; s += 2) {
      const p = path.getPointAtLength(s);
      const x = m.a * p.x + m.c * p.y + m.e;
      const y = m.b * p.x + m.d * p.y + m.f;
      for (const b of boxes) {
        if (x > b.l + 1 && x < b.r - 1 && y > b.t + 1 && y < b.b - 1) {
          crossings.push([path.dataset.source, path.dataset.target, b.name]);
        }
      }
    }
  });
  const overlaps = [];
  boxes.forEach((a, i) => boxes.slice(i + 1).forEach((b) => {
    if (a.l < b.r && b.l < a.r && a.t < b.b && b.t < a.b) { overlaps.push([a.name, b.name]); }
  }));
  return {edges: edges.length, boxes: boxes.length, crossings: crossings.slice(0, 5),
          overlaps: overlaps.slice(0, 5)};
})()"""

VISIBLE_DATASETS = """Array.from(document.querySelectorAll("g.dataset")).filter((g) => {
  const r = g.getBoundingClientRect(); return r.width > 0 && r.height > 0; }).length"""


def _open(browser: Chromium, tmp_path: Path, journal: dict[str, Any], name: str) -> None:
    page = tmp_path / f"{name}.html"
    page.write_text(render_html(journal), encoding="utf-8")
    browser.open(page.as_uri())
    error = browser.evaluate("document.documentElement.getAttribute('data-script-error')")
    assert error is None, error


@pytest.fixture
def browser(tmp_path: Path) -> Any:
    with Chromium(tmp_path / "profile") as chromium:
        yield chromium


def _journal_of(pipeline: Pipeline, directory: Path) -> dict[str, Any]:
    """The journal of ``pipeline`` before it runs (every node 'not run')."""
    return dict(RunJournal(directory, pipeline).record)


def _spaceflights(monkeypatch: pytest.MonkeyPatch) -> Pipeline:
    monkeypatch.syspath_prepend(str(EXAMPLE))
    from spaceflights.pipelines import create_pipelines

    try:
        return create_pipelines()["__default__"]
    finally:
        for module in [m for m in sys.modules if m.startswith("spaceflights")]:
            del sys.modules[module]


def _layered(width: int, depth: int) -> Pipeline:
    """``width`` chains of ``depth`` nodes, each node also reading the chain's first output,
    and a last node reading one output of every chain: long edges everywhere."""
    nodes = []
    for chain in range(width):
        nodes.append(node(lambda: 1, None, f"c{chain}_0", name=f"chain{chain}_0"))
        for step in range(1, depth):
            inputs = [f"c{chain}_{step - 1}"] + ([f"c{chain}_0"] if step > 1 else [])
            nodes.append(
                node(lambda *a: 1, inputs, f"c{chain}_{step}", name=f"chain{chain}_{step}")
            )
    nodes.append(node(lambda *a: 1, [f"c{c}_{c % depth}" for c in range(width)], "end", name="end"))
    return Pipeline(nodes)


@pytest.mark.parametrize("example", ["spaceflights", "layered"])
def test_no_edge_crosses_a_box_in_either_view(
    browser: Chromium, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, example: str
) -> None:
    pipeline = _spaceflights(monkeypatch) if example == "spaceflights" else _layered(6, 5)
    _open(browser, tmp_path, _journal_of(pipeline, tmp_path), example)
    for view in ("datasets", "nodes"):
        if view == "nodes":
            browser.evaluate("document.getElementById('show-datasets').click()")
            browser.wait_for("document.documentElement.dataset.graphView === 'nodes'")
        geometry = browser.evaluate(GEOMETRY)
        assert geometry["edges"] > len(pipeline.nodes) - 1, geometry
        assert geometry["crossings"] == [], (view, geometry)
        assert geometry["overlaps"] == [], (view, geometry)


def test_the_datasets_switch_shows_and_hides_them(
    browser: Chromium, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline = _spaceflights(monkeypatch)
    journal = _journal_of(pipeline, tmp_path)
    _open(browser, tmp_path, journal, "switch")
    datasets = {name.split("@")[0] for n in pipeline.nodes for name in (*n.inputs, *n.outputs)}
    assert browser.evaluate(VISIBLE_DATASETS) == len(datasets)
    browser.evaluate("document.getElementById('show-datasets').click()")
    assert browser.evaluate(VISIBLE_DATASETS) == 0
    visible_nodes = browser.evaluate(
        "Array.from(document.querySelectorAll('svg.graph:not([hidden]) g.node'))"
        ".filter((g) => g.getBoundingClientRect().width > 0).length"
    )
    assert visible_nodes == len(pipeline.nodes)
    browser.evaluate("document.getElementById('show-datasets').click()")
    assert browser.evaluate(VISIBLE_DATASETS) == len(datasets)


def _wide_failed_journal(directory: Path) -> dict[str, Any]:
    """A journal of 40 chains of 4 nodes where the third node of the last chain failed."""
    journal = _journal_of(_layered(40, 4), directory)
    failed = "chain39_2"
    error = {"node": failed, "type": "ValueError", "message": "bad row", "traceback": ""}
    for entry in journal["nodes"]:
        entry["status"] = "done"
        entry.update(started=100.0, finished=101.0, worker="MainThread")
        if entry["name"] == failed:
            entry.update(status="failed", error=error)
        elif entry["name"] in {"chain39_3", "end"}:
            entry.update(status="not run", started=None, finished=None, worker=None)
    journal.update(status="failed", error=error, started=99.0, finished=102.0)
    return journal


def test_a_failed_node_is_in_the_initial_viewport(browser: Chromium, tmp_path: Path) -> None:
    _open(browser, tmp_path, _wide_failed_journal(tmp_path), "wide")
    where = browser.evaluate(
        """(() => {
          const box = document.querySelector(
            'svg.graph:not([hidden]) g.node[data-node="chain39_2"] rect').getBoundingClientRect();
          const view = document.getElementById("graph-view").getBoundingClientRect();
          return {box: [box.left, box.top, box.right, box.bottom],
                  view: [view.left, view.top, view.right, view.bottom],
                  window: [window.innerWidth, window.innerHeight]};
        })()"""
    )
    left, top, right, bottom = where["box"]
    assert right - left > 20, "the failed box is drawn at a size one can read"
    width, height = where["window"]
    assert 0 <= left < right <= width, where
    assert 0 <= top < bottom <= height, where
    view = where["view"]
    assert view[0] <= left < right <= view[2], where
    assert view[1] <= top < bottom <= view[3], where


def test_timeline_lanes_are_distinct(browser: Chromium, tmp_path: Path) -> None:
    # Two nodes that can only finish together run on two threads at once: two lanes.
    barrier = threading.Barrier(2, timeout=30)

    def meet(x: int) -> int:
        barrier.wait()
        return x

    pipeline = Pipeline(
        [
            node(meet, "start", "left", name="left_side"),
            node(meet, "start", "right", name="right_side"),
            node(lambda a, b: a + b, ["left", "right"], "total", name="total"),
        ]
    )
    catalog = DataCatalog()
    catalog["start"] = 1
    with RunJournal(tmp_path, pipeline, runner="thread") as journal:
        ThreadRunner(max_workers=2).run(pipeline, catalog, observer=journal)
    _open(browser, tmp_path, dict(journal.record), "lanes")
    lanes = browser.evaluate(
        """Array.from(document.querySelectorAll("#timeline g.lane")).map((lane) => {
          const bars = Array.from(lane.querySelectorAll("g.bar rect"))
            .map((r) => r.getBoundingClientRect());
          return {label: lane.querySelector(".lane-label").textContent,
                  top: Math.min(...bars.map((b) => b.top)),
                  bottom: Math.max(...bars.map((b) => b.bottom)),
                  bars: bars.length};
        })"""
    )
    assert len(lanes) == 2, lanes
    assert len({lane["label"] for lane in lanes}) == 2
    assert all(lane["label"] and lane["bars"] for lane in lanes)
    first, second = sorted(lanes, key=lambda lane: lane["top"])
    assert first["bottom"] <= second["top"], "lanes do not overlap on screen"
    phases = browser.evaluate(
        "Array.from(document.querySelectorAll('svg.timeline g.phase')).map((g) => g.dataset.phase)"
    )
    assert "validation and workers starting" in phases


def test_filters_sorting_and_details(
    browser: Chromium, tmp_path: Path, failed_journal: dict[str, Any]
) -> None:
    _open(browser, tmp_path, failed_journal, "table")
    rows = "Array.from(document.querySelectorAll('#nodes tbody tr')).map((r) => r.dataset.row)"
    assert browser.evaluate(rows) == [n["name"] for n in failed_journal["nodes"]]
    browser.evaluate(
        "(() => { const s = document.getElementById('filter-status'); s.value = 'failed';"
        " s.dispatchEvent(new Event('change')); })()"
    )
    assert browser.evaluate(rows) == ["d"]
    dimmed = browser.evaluate(
        "Array.from(document.querySelectorAll('#timeline g.bar.filtered-out'))"
        ".map((g) => g.dataset.node)"
    )
    ran = {n["name"] for n in failed_journal["nodes"] if n["started"] is not None}
    assert set(dimmed) == ran - {"d"}
    browser.evaluate(
        "(() => { const s = document.getElementById('filter-status'); s.value = '';"
        " s.dispatchEvent(new Event('change')); })()"
    )
    browser.evaluate("document.querySelector('#nodes th[data-key=\"took\"]').click()")
    took = {
        n["name"]: n["finished"] - n["started"]
        for n in failed_journal["nodes"]
        if n["finished"] is not None
    }
    listed = [name for name in browser.evaluate(rows) if name in took]
    assert listed == sorted(took, key=lambda name: -took[name]), "longest first"
    # A click on the failed box shows its error and traceback, ductwork's frames folded.
    browser.evaluate(
        "document.querySelector('svg.graph:not([hidden]) g.node[data-node=\"d\"]')"
        ".dispatchEvent(new MouseEvent('click', {bubbles: true}))"
    )
    details = browser.evaluate("document.getElementById('details').innerText")
    assert "ValueError" in details
    assert "</script><script>alert(1)</script>" in details, "the message, as text"
    folded = browser.evaluate(
        "Array.from(document.querySelectorAll('#details details.own-frames'))"
        ".every((d) => !d.open && d.querySelector('summary').textContent.includes('ductwork'))"
    )
    assert folded
    assert browser.evaluate("document.querySelectorAll('#details details.own-frames').length") > 0


def test_a_script_error_would_be_seen(
    browser: Chromium, tmp_path: Path, failed_journal: dict[str, Any]
) -> None:
    html = render_html(failed_journal).replace(
        '<script type="application/json"',
        '<script>nosuch();</script><script type="application/json"',
        1,
    )
    page = tmp_path / "broken.html"
    page.write_text(html)
    browser.open(page.as_uri())
    error = browser.evaluate("document.documentElement.getAttribute('data-script-error')")
    assert error is not None
    assert "nosuch" in error


# The boxes of the visible graph that a person can see: drawn, inside the graph's frame.
ON_SCREEN = """(() => {
  const view = document.getElementById("graph-view").getBoundingClientRect();
  const svg = document.querySelector("svg.graph:not([hidden])");
  return Array.from(svg.querySelectorAll("g.node")).filter((g) => {
    const r = g.querySelector("rect").getBoundingClientRect();
    return r.width > 0 && r.right > view.left && r.left < view.right && r.bottom > view.top
      && r.top < view.bottom;
  }).map((g) => (g.hasAttribute("data-group") ? "group:" : "") + g.dataset.node);
})()"""


def _three_namespaces() -> Pipeline:
    from ductwork.pipeline import pipeline

    def part(name: str, source: str) -> Pipeline:
        inner = Pipeline(
            [
                node(lambda x: x, "source", "middle", name="first"),
                node(lambda x: x, "middle", "result", name="second"),
            ]
        )
        outputs = {"result": f"{name}_result"}
        return pipeline(inner, namespace=name, inputs={"source": source}, outputs=outputs)

    return part("load", "raw") + part("clean", "load_result") + part("model", "clean_result")


def _click_text(browser: Chromium, selector: str) -> None:
    browser.evaluate(f"document.querySelector({selector!r}).click()")


def test_namespaces_collapse_and_expand_one_at_a_time(browser: Chromium, tmp_path: Path) -> None:
    _open(browser, tmp_path, _journal_of(_three_namespaces(), tmp_path), "groups")
    assert browser.evaluate("document.documentElement.dataset.expanded") == "*"
    assert "clean.first" in browser.evaluate(ON_SCREEN)
    # Click a node of `clean`: its details offer to collapse that namespace alone.
    browser.evaluate(
        "document.querySelector('svg.graph:not([hidden]) g.node[data-node=\"clean.first\"]')"
        ".dispatchEvent(new MouseEvent('click', {bubbles: true}))"
    )
    _click_text(browser, "#collapse-namespace")
    browser.wait_for("document.documentElement.dataset.expanded === 'load,model'")
    shown = browser.evaluate(ON_SCREEN)
    assert "group:clean" in shown
    assert not [name for name in shown if name.startswith("clean.")], shown
    assert {"load.first", "load.second", "model.first", "model.second"} <= set(shown), shown
    assert browser.evaluate(VISIBLE_DATASETS) > 0, "datasets stay drawn"
    geometry = browser.evaluate(GEOMETRY)
    assert geometry["crossings"] == [], geometry
    assert geometry["overlaps"] == [], geometry
    # Collapse all, then open `model` by double-clicking its box: the others stay closed.
    _click_text(browser, "#collapse-all")
    browser.wait_for("document.documentElement.dataset.expanded === ''")
    assert sorted(browser.evaluate(ON_SCREEN)) == ["group:clean", "group:load", "group:model"]
    assert browser.evaluate("document.getElementById('collapse-all').disabled") is True
    browser.evaluate(
        "document.querySelector('svg.graph:not([hidden]) g.group[data-node=\"model\"]')"
        ".dispatchEvent(new MouseEvent('dblclick', {bubbles: true}))"
    )
    browser.wait_for("document.documentElement.dataset.expanded === 'model'")
    shown = browser.evaluate(ON_SCREEN)
    assert {"group:load", "group:clean", "model.first", "model.second"} == set(shown), shown
    assert "collapse namespace model" in browser.evaluate(
        "document.getElementById('details').innerText"
    )
    _click_text(browser, "#expand-all")
    browser.wait_for("document.documentElement.dataset.expanded === '*'")
    assert not [name for name in browser.evaluate(ON_SCREEN) if name.startswith("group:")]


def test_dask_lanes_name_the_worker_address_and_its_process(
    browser: Chromium, tmp_path: Path
) -> None:
    distributed = pytest.importorskip("distributed")
    from ductwork.runner import DaskRunner

    pipeline = Pipeline(
        [node(lambda x: x + 1, "start", f"out{i}", name=f"step{i}") for i in range(4)]
    )
    catalog = DataCatalog()
    catalog["start"] = 1
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster, timeout=60) as client,
    ):
        pids = client.run(os.getpid)  # address -> pid of each worker process
        with RunJournal(tmp_path, pipeline, runner="dask") as journal:
            DaskRunner(client=client).run(pipeline, catalog, observer=journal)
    _open(browser, tmp_path, dict(journal.record), "dask")
    labels = browser.evaluate(
        "Array.from(document.querySelectorAll('#timeline g.lane .lane-label'))"
        ".map((t) => t.textContent)"
    )
    expected = {
        f"{address.removeprefix('tcp://')} \u00b7 pid {pid}" for address, pid in pids.items()
    }
    assert labels, "the timeline has lanes"
    assert set(labels) <= expected, (labels, expected)
    assert len(set(labels)) == len(labels)


def test_details_show_load_and_save_times_shapes_and_attempts(
    browser: Chromium, tmp_path: Path
) -> None:
    pytest.importorskip("pandas")
    from tests.report.test_measures import _run

    _open(browser, tmp_path, _run(tmp_path, SequentialRunner()), "measured")
    browser.evaluate(
        "document.querySelector('svg.graph:not([hidden]) g.dataset[data-dataset=\"matrix\"]')"
        ".dispatchEvent(new MouseEvent('click', {bubbles: true}))"
    )
    text = browser.evaluate("document.getElementById('details').innerText")
    assert "rows: 250" in text
    assert "columns: 2" in text
    assert "size in memory: 3.9 KB" in text
    assert "save time: " in text
    assert "load time: " in text
    browser.evaluate("document.querySelector('#nodes tr[data-row=\"flaky\"]').click()")
    text = browser.evaluate("document.getElementById('details').innerText")
    assert "attempts: 2 (1 retry)" in text
    assert "loading its inputs: " in text
    # The table has an I/O column with a figure for each node that ran.
    io = browser.evaluate(
        """(() => {
          const headers = Array.from(document.querySelectorAll('#nodes th'))
            .map((th) => th.textContent);
          const at = headers.indexOf('I/O (s)');
          return Array.from(document.querySelectorAll('#nodes tbody tr'))
            .map((tr) => tr.children[at].textContent);
        })()"""
    )
    assert len(io) == 3
    assert all(value for value in io), io
    assert float(io[0]) > 0, "reading the CSV file takes time"


def test_a_long_start_up_is_hidden_until_asked_for(browser: Chromium, tmp_path: Path) -> None:
    journal = _journal_of(_layered(2, 3), tmp_path)
    for i, entry in enumerate(journal["nodes"]):
        entry.update(status="done", started=110.0 + i * 0.1, finished=110.1 + i * 0.1)
        entry["worker"] = "MainThread"
    journal.update(status="success", started=100.0, finished=111.0)
    journal["phases"] = [{"name": "loading the project", "started": 96.0, "finished": 100.0}]
    _open(browser, tmp_path, journal, "start-up")
    shown = """(() => {
      const svg = Array.from(document.querySelectorAll("svg.timeline"))
        .filter((s) => s.getBoundingClientRect().width > 0);
      return svg.map((s) => ({
        id: s.id,
        phases: Array.from(s.querySelectorAll("g.phase")).map((g) => g.dataset.phase),
        labels: Array.from(s.querySelectorAll("g.bar text")).map((t) => t.textContent),
        widths: Array.from(s.querySelectorAll("g.bar rect"))
          .map((r) => r.getBoundingClientRect().width),
      }));
    })()"""
    [nodes_only] = browser.evaluate(shown)
    assert nodes_only["id"] == "timeline"
    assert "loading the project" not in nodes_only["phases"]
    assert min(nodes_only["widths"]) > 40, "each bar is wide enough to read"
    assert all(nodes_only["labels"]), nodes_only
    assert "with the 14.00 s of start-up" in browser.evaluate(
        "document.getElementById('timeline-section').innerText"
    )
    browser.evaluate("document.getElementById('timeline-whole-run').click()")
    [whole] = browser.evaluate(shown)
    assert whole["id"] == "timeline-whole"
    assert {"loading the project", "validation and workers starting"} <= set(whole["phases"])


def test_the_filter_dims_namespace_boxes_whose_nodes_all_fail_it(
    browser: Chromium, tmp_path: Path
) -> None:
    _open(browser, tmp_path, _journal_of(_three_namespaces(), tmp_path), "group-filter")
    _click_text(browser, "#collapse-all")
    browser.wait_for("document.documentElement.dataset.expanded === ''")
    browser.evaluate(
        "const f = document.getElementById('filter-name'); f.value = 'model.sec';"
        "f.dispatchEvent(new Event('input'))"
    )
    dimmed = browser.evaluate(
        "Array.from(document.querySelectorAll('svg.graph:not([hidden]) g.group'))"
        ".filter((g) => getComputedStyle(g).opacity < 0.5).map((g) => g.dataset.node).sort()"
    )
    assert dimmed == ["clean", "load"]

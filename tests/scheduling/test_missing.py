from __future__ import annotations

from collections import Counter

import pytest

from ductwork.scheduling import DatasetState, plan_missing_outputs
from tests.scheduling.fakes import graph

P, M = DatasetState.PRESENT, DatasetState.MISSING

# Each case: pipeline, the persisted datasets and whether they exist (anything else lives in
# memory), and the nodes that must run.
CASES = {
    "chain, everything exists": (
        "a: x -> y\nb: y -> z\nc: z -> out",
        {"x": P, "y": P, "z": P, "out": P},
        [],
    ),
    "chain, last output missing": (
        "a: x -> y\nb: y -> z\nc: z -> out",
        {"x": P, "y": P, "z": P, "out": M},
        ["c"],
    ),
    "chain, missing output behind an in-memory intermediate": (
        "a: x -> y\nb: y -> z\nc: z -> out",
        {"x": P, "y": P, "out": M},
        ["b", "c"],
    ),
    "chain, in-memory intermediates all the way up": (
        "a: x -> y\nb: y -> z\nc: z -> out",
        {"x": P, "out": M},
        ["a", "b", "c"],
    ),
    "chain, first output missing refreshes nothing persisted downstream": (
        "a: x -> y\nb: y -> z\nc: z -> out",
        {"x": P, "y": M, "z": P, "out": P},
        ["a"],
    ),
    "everything in memory and nothing runs upstream": (
        "a: x -> y\nb: y -> out",
        {"x": P},
        [],
    ),
    "node without outputs always runs and pulls its in-memory inputs": (
        "a: x -> y\nreport: y ->",
        {"x": P},
        ["a", "report"],
    ),
    "diamond, one branch missing": (
        "top: x -> l, r\nleft: l -> l2\nright: r -> r2\nbottom: l2, r2 -> out",
        {"x": P, "l": P, "r": P, "l2": M, "r2": P, "out": P},
        ["left"],
    ),
    "diamond, bottom missing with in-memory branches": (
        "top: x -> l, r\nleft: l -> l2\nright: r -> r2\nbottom: l2, r2 -> out",
        {"x": P, "l": P, "r": P, "out": M},
        ["left", "right", "bottom"],
    ),
    "wasteful parent of a skipped node is skipped": (
        "a: x -> tmp\nb: tmp -> out",
        {"x": P, "out": P},
        [],
    ),
    "child runs but the shared dataset exists": (
        "a: x -> y\nb: y -> out",
        {"x": P, "y": P, "out": M},
        ["b"],
    ),
    "everything missing": (
        "a: x -> y\nb: y -> out",
        {"x": P, "y": M, "out": M},
        ["a", "b"],
    ),
    "retrained model refreshes the in-memory metrics (Kedro skips them)": (
        "train: x -> model\nevaluate: model -> metrics",
        {"x": P, "model": M},
        ["train", "evaluate"],
    ),
    "refreshed node pulls in its other in-memory inputs": (
        "train: x -> model\nfeatures: x -> feats\nevaluate: model, feats -> metrics",
        {"x": P, "model": M},
        ["train", "features", "evaluate"],
    ),
    "refresh does not reach a node whose outputs are persisted": (
        "train: x -> model\nevaluate: model -> metrics",
        {"x": P, "model": M, "metrics": P},
        ["train"],
    ),
    "transcoded edge: producer missing, consumer's output exists": (
        "p: x -> d@pandas\nc: d@spark -> out",
        {"x": P, "d@pandas": M, "d@spark": M, "out": P},
        ["p"],
    ),
    "transcoded edge: consumer running needs the missing producer": (
        "p: x -> d@pandas\nc: d@spark -> out",
        {"x": P, "out": M},
        ["p", "c"],
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_only_missing_decisions(case: str) -> None:
    spec, states, expected = CASES[case]
    plan = plan_missing_outputs(graph(spec), lambda name: states.get(name, DatasetState.MEMORY))
    assert sorted(n.name for n in plan.to_run) == sorted(expected)
    assert {n.name for n in plan.skipped} | {n.name for n in plan.to_run} == {
        line.split(":")[0] for line in spec.splitlines()
    }


def test_each_dataset_is_classified_once() -> None:
    calls: Counter[str] = Counter()

    def state(name: str) -> DatasetState:
        calls[name] += 1
        return {"out": M}.get(name, DatasetState.MEMORY)

    plan_missing_outputs(
        graph("top: x -> l, r\nleft: l -> l2\nright: r -> r2\nbottom: l2, r2 -> out"), state
    )
    assert calls
    assert max(calls.values()) == 1


def test_reasons_explain_every_decision() -> None:
    spec = (
        "train: x -> model\nfeatures: x -> feats\nevaluate: model, feats -> metrics\n"
        "report: metrics ->\nold: x -> archived"
    )
    states = {"x": P, "model": M, "archived": P}
    plan = plan_missing_outputs(graph(spec), lambda n: states.get(n, DatasetState.MEMORY))
    reasons = {d.node.name: (d.runs, d.reason) for d in plan.decisions}
    assert reasons == {
        "train": (True, "has missing output 'model'"),
        "features": (True, "produces 'feats' needed by running child 'evaluate'"),
        "evaluate": (True, "produces 'metrics' needed by running child 'report'"),
        "report": (True, "has no outputs"),
        "old": (False, "all outputs exist: archived"),
    }


def test_refresh_reason_names_the_running_parent() -> None:
    plan = plan_missing_outputs(
        graph("train: x -> model\nevaluate: model -> metrics"),
        lambda n: {"x": P, "model": M}.get(n, DatasetState.MEMORY),
    )
    evaluate = plan.decisions[1]
    assert evaluate.reason == (
        "returns 'metrics' in memory and reads 'model' from running node 'train'"
    )


def test_skipped_in_memory_node_says_nobody_needs_it() -> None:
    plan = plan_missing_outputs(
        graph("a: x -> tmp\nb: tmp -> out"),
        lambda n: {"x": P, "out": P}.get(n, DatasetState.MEMORY),
    )
    assert plan.decisions[0].reason == "no running node needs its in-memory outputs"

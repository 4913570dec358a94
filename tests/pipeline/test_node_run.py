"""Running one node: input checks per style, output mapping, generators, logging."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from ductwork.exceptions import NodeInputError, NodeOutputError
from ductwork.pipeline import node
from tests.pipeline.funcs import (
    as_dict,
    biconcat,
    constant,
    dict_chunks,
    fail,
    identity,
    keywords,
    numbers,
    pairs,
    sink,
    split_pair,
)

# --- inputs --------------------------------------------------------------------------------------


def test_each_input_style_calls_the_function_the_right_way() -> None:
    assert node(constant, None, "x").run() == {"x": 42}
    assert node(constant, None, "x").run({}) == {"x": 42}
    assert node(identity, "a", "b").run({"a": 7}) == {"b": 7}
    assert node(biconcat, ["b", "a"], "c").run({"a": "1", "b": "2"}) == {"c": "21"}
    by_keyword = node(keywords, {"second": "s", "first": "f", "third": "t"}, "out")
    assert by_keyword.run({"f": 1, "s": 2, "t": 3}) == {"out": (1, 2, 3)}


def test_calling_a_node_is_running_it() -> None:
    assert node(biconcat, ["a", "b"], "c")(a=1, b=2) == {"c": 3}


def test_the_same_dataset_may_feed_two_parameters() -> None:
    assert node(biconcat, ["a", "a"], "c").run({"a": 2}) == {"c": 4}


@pytest.mark.parametrize(
    ("made", "inputs", "pattern"),
    [
        (node(constant, None, "x"), {"a": 1}, r"expected no inputs, but got .* 1 input\(s\)"),
        (node(identity, "a", "b"), {}, r"expected one input named 'a', but got .* 0 input"),
        (node(identity, "a", "b"), {"b": 1}, r"expected one input named 'a'.*unexpected: \['b'\]"),
        (node(identity, "a", "b"), {"a": 1, "z": 2}, r"Missing: \[\]; unexpected: \['z'\]"),
        (node(biconcat, ["a", "b"], "c"), {"a": 1}, r"expected 2 input\(s\) \['a', 'b'\]"),
        (node(biconcat, {"a": "x", "b": "y"}, "c"), {"a": 1, "b": 2}, r"Missing: \['x', 'y'\]"),
    ],
)
def test_inputs_must_match_the_declared_inputs(made: Any, inputs: Any, pattern: str) -> None:
    with pytest.raises(NodeInputError, match=pattern) as info:
        made.run(inputs)
    assert str(made) in str(info.value)
    assert isinstance(info.value, ValueError)


def test_inputs_must_be_a_dict() -> None:
    with pytest.raises(NodeInputError, match="expects a dictionary or None"):
        node(identity, "a", "b").run(["a"])  # type: ignore[arg-type]


# --- outputs -------------------------------------------------------------------------------------


def test_each_output_style_maps_the_result() -> None:
    assert node(identity, "a", "b").run({"a": [1, 2]}) == {"b": [1, 2]}
    assert node(split_pair, "p", ["x", "y"]).run({"p": (1, 2)}) == {"x": 1, "y": 2}
    assert node(split_pair, "p", ["x", "y"]).run({"p": [1, 2]}) == {"x": 1, "y": 2}
    assert node(as_dict, "a", {"triple": "t", "double": "d"}).run({"a": 1}) == {"t": 3, "d": 2}
    assert node(sink, "a", None).run({"a": 1}) == {}


@pytest.mark.parametrize(
    ("made", "value", "pattern"),
    [
        (node(identity, "a", ["x", "y"]), {"k": 1}, r"list of outputs \['x', 'y'\].*'dict'"),
        (node(identity, "a", ["x", "y"]), (1, 2, 3), r"returned 3 output\(s\).*contains 2"),
        (node(identity, "a", {"k": "x"}), [1], r"output is a dictionary.*'list'"),
        (node(identity, "a", {"k": "x", "j": "y"}), {"k": 1, "z": 2}, r"missing: \['j'\]"),
    ],
)
def test_results_that_do_not_fit_the_outputs(made: Any, value: Any, pattern: str) -> None:
    with pytest.raises(NodeOutputError, match=pattern) as info:
        made.run({"a": value})
    assert str(info.value).startswith(f"Failed to save outputs of node {made}")


def test_no_outputs_but_a_returned_value_warns() -> None:
    with pytest.warns(
        UserWarning, match="declares no outputs but its function returned a 'int'"
    ) as record:
        assert node(identity, "a", None).run({"a": 5}) == {}
    assert record[0].filename == __file__  # the warning points at the caller of run()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        node(sink, "a", None).run({"a": 5})


# --- generators ----------------------------------------------------------------------------------


def test_a_generator_with_one_output_is_the_value_itself() -> None:
    result = node(numbers, "n", "stream").run({"n": 3})
    assert isinstance(result["stream"], Iterator)
    assert list(result["stream"]) == [0, 1, 2]


def test_a_generator_with_list_outputs_is_split_lazily() -> None:
    produced: list[int] = []

    def counted(n: int) -> Iterator[tuple[int, int]]:
        for chunk in pairs(n):
            produced.append(chunk[0])
            yield chunk

    result = node(counted, "n", ["i", "square"]).run({"n": 4})
    assert produced == [0]  # only the first chunk was read, to check its shape
    assert list(result["square"]) == [0, 1, 4, 9]
    assert list(result["i"]) == [0, 1, 2, 3]


def test_a_generator_with_dict_outputs_is_split_by_key() -> None:
    result = node(dict_chunks, "n", {"high": "h", "low": "l"}).run({"n": 3})
    assert list(result["l"]) == [0, 1, 2]
    assert list(result["h"]) == [100, 101, 102]


def test_a_badly_shaped_first_chunk_fails_in_run() -> None:
    with pytest.raises(NodeOutputError, match=r"returned 2 output\(s\).*contains 3"):
        node(pairs, "n", ["a", "b", "c"]).run({"n": 2})
    with pytest.raises(NodeOutputError, match=r"missing: \['mid'\]"):
        node(dict_chunks, "n", {"low": "l", "mid": "m"}).run({"n": 2})


def test_a_badly_shaped_later_chunk_fails_when_read() -> None:
    def uneven() -> Iterator[tuple[int, ...]]:
        yield 1, 2
        yield (3,)

    result = node(uneven, None, ["a", "b"]).run()
    with pytest.raises(NodeOutputError, match=r"returned 1 output\(s\)"):
        list(result["a"])


def test_an_empty_generator_with_list_outputs_fails() -> None:
    with pytest.raises(NodeOutputError, match="yielded no chunk"):
        node(pairs, "n", ["a", "b"]).run({"n": 0})


# --- logging and errors --------------------------------------------------------------------------


def test_running_logs_the_node(caplog: pytest.LogCaptureFixture) -> None:
    made = node(identity, "a", "b", name="n")
    with caplog.at_level(logging.INFO, logger="ductwork.pipeline.node"):
        made.run({"a": 1})
    assert [r.getMessage() for r in caplog.records] == ["Running node: n: identity([a]) -> [b]"]


def test_no_record_is_built_when_info_is_off(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="ductwork.pipeline.node"):
        node(identity, "a", "b").run({"a": 1})
    assert caplog.records == []


def test_the_functions_own_exception_is_logged_and_reraised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    made = node(fail, "a", "b", name="bad")
    with (
        caplog.at_level(logging.ERROR, logger="ductwork.pipeline.node"),
        pytest.raises(RuntimeError, match="boom on 1") as info,
    ):
        made.run({"a": 1})
    assert type(info.value) is RuntimeError
    assert "Node bad: fail([a]) -> [b] failed with error" in caplog.text

"""Building nodes: validation, names, tags, value semantics, immutability, pickling."""

from __future__ import annotations

import copy
import functools
import os
import pickle
import re
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

from ductwork.exceptions import (
    InvalidDatasetNameError,
    InvalidNodeError,
    NodeSignatureError,
    PipelineError,
)
from ductwork.pipeline import Node, node
from tests.pipeline.funcs import Adder, biconcat, constant, identity, keywords, split_pair

ROOT = Path(__file__).resolve().parents[2]
GENERATED = re.compile(r"^identity__[0-9a-f]{8}$")


# --- valid definitions ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("func", "inputs", "outputs", "expected_inputs", "expected_outputs"),
    [
        (constant, None, "x", [], ["x"]),
        (identity, "a", None, ["a"], []),
        (identity, "a", "b", ["a"], ["b"]),
        (biconcat, ["a", "b"], ["c"], ["a", "b"], ["c"]),
        (split_pair, {"pair": "p"}, {"first": "f", "second": "s"}, ["p"], ["f", "s"]),
        (identity, "a@pandas", "b@spark", ["a@pandas"], ["b@spark"]),
    ],
)
def test_every_input_and_output_style_is_accepted(
    func: Any, inputs: Any, outputs: Any, expected_inputs: list[str], expected_outputs: list[str]
) -> None:
    made = node(func, inputs, outputs)
    assert made.inputs == expected_inputs
    assert made.outputs == expected_outputs
    assert made.func is func


def test_dict_inputs_follow_the_signature_not_the_dict() -> None:
    made = node(keywords, {"third": "c", "second": "b", "first": "a"}, "out")
    assert made.inputs == ["a", "b", "c"]


def test_a_builtin_without_signature_is_accepted_unchecked() -> None:
    made = node(max, ["a", "b"], "c")
    assert made.run({"a": 1, "b": 5}) == {"c": 5}


def test_node_class_takes_the_same_arguments_as_the_function() -> None:
    assert Node(identity, "a", "b", name="n", tags="t") == node(identity, "a", "b", name="n")


# --- invalid definitions -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"func": "not callable"}, r"Invalid Node definition: first argument must be a function"),
        ({"inputs": 5}, r"'inputs' type must be one of \[String, List, Dict, None\], not 'int'"),
        ({"inputs": ("a",)}, r"'inputs' type must be one of .* not 'tuple'"),
        ({"outputs": {"b"}}, r"'outputs' type must be one of .* not 'set'"),
        (
            {"inputs": ["a", 3]},
            r"used as inputs to the function must be of 'String' type, not 'int'",
        ),
        ({"outputs": {"k": 1}}, r"used as outputs of the function must be .*, not 'int'"),
        ({"outputs": [""]}, r"the 'outputs' argument holds an empty name"),
        ({"inputs": None, "outputs": None}, r"it must have some 'inputs' or 'outputs'"),
        ({"inputs": [], "outputs": {}}, r"it must have some 'inputs' or 'outputs'"),
        ({"name": "has space"}, r"'has space' is not a valid node name"),
        ({"name": "slash/no"}, r"'slash/no' is not a valid node name"),
        ({"tags": ["ok", "not ok"]}, r"'not ok' is not a valid node tag"),
        ({"tags": "a,b"}, r"'a,b' is not a valid node tag"),
        ({"confirms": [1]}, r"'confirms' must hold dataset names"),
        ({"namespace": 3}, r"'namespace' must be a string"),
    ],
)
def test_invalid_definitions_raise_invalid_node_error(kwargs: dict[str, Any], pattern: str) -> None:
    arguments: dict[str, Any] = {"func": identity, "inputs": "a", "outputs": "b", **kwargs}
    with pytest.raises(InvalidNodeError, match=pattern):
        node(**arguments)


def test_definition_errors_show_the_expected_format() -> None:
    with pytest.raises(ValueError, match=r"Format should be: node\(function, inputs, outputs\)"):
        node(identity, None, None)


def test_duplicate_outputs_are_named() -> None:
    with pytest.raises(InvalidNodeError, match=r"duplicate output\(s\) \{'x'\}") as info:
        node(split_pair, "p", ["x", "x"])
    assert "split_pair([p]) -> [x;x]" in str(info.value)


@pytest.mark.parametrize(
    ("inputs", "outputs", "shared"),
    [("a", "a", "{'a'}"), ("a@pandas", "a@spark", "{'a'}"), ("a", ["b", "a@csv"], "{'a'}")],
)
def test_an_input_may_not_be_an_output_even_transcoded(
    inputs: Any, outputs: Any, shared: str
) -> None:
    func = identity if isinstance(outputs, str) else split_pair
    with pytest.raises(InvalidNodeError, match="cannot have the same inputs and outputs") as info:
        node(func, inputs, outputs)
    assert str(info.value).endswith(shared)


@pytest.mark.parametrize(
    ("func", "inputs", "message"),
    [
        (identity, ["a", "b"], "Inputs of 'identity' function expected ['x'], but got ['a', 'b']"),
        (biconcat, "a", "Inputs of 'biconcat' function expected ['a', 'b'], but got a"),
        (constant, "a", "Inputs of 'constant' function expected [], but got a"),
        (identity, {"y": "a"}, "Inputs of 'identity' function expected ['x'], but got {'y': 'a'}"),
    ],
)
def test_inputs_that_do_not_bind_raise_type_error(func: Any, inputs: Any, message: str) -> None:
    with pytest.raises(NodeSignatureError) as info:
        node(func, inputs, "out")
    assert str(info.value) == message
    assert isinstance(info.value, TypeError)
    assert isinstance(info.value, PipelineError)


def test_more_than_one_transcoding_separator_is_rejected() -> None:
    with pytest.raises(InvalidDatasetNameError, match="'a@b@c'"):
        node(identity, "a@b@c", "out")


# --- names ---------------------------------------------------------------------------------------


def test_generated_name_has_the_function_name_and_eight_hex_digits() -> None:
    made = node(identity, "a", "b")
    assert GENERATED.match(made.name)
    assert made.name == node(identity, "a", "b").name
    assert made.name != node(identity, "a", "c").name


def test_an_empty_name_counts_as_no_name() -> None:
    made = node(identity, "a", "b", name="")
    assert GENERATED.match(made.name)
    assert made.short_name == "Identity"
    assert str(made) == "identity([a]) -> [b]"


def test_generated_name_of_partial_lambda_and_callable_object() -> None:
    assert re.match(
        r"^partial\(identity\)__[0-9a-f]{8}$", node(functools.partial(identity), "a", "b").name
    )
    assert re.match(r"^<lambda>__[0-9a-f]{8}$", node(lambda x: x, "a", "b").name)
    assert re.match(r"^Adder__[0-9a-f]{8}$", node(Adder(), ["a", "b"], "c").name)


def test_namespace_prefixes_the_name() -> None:
    assert node(identity, "a", "b", name="n", namespace="x.y").name == "x.y.n"
    generated = node(identity, "a", "b", namespace="ns").name
    assert generated.startswith("ns.identity__")


@pytest.mark.parametrize(
    ("kwargs", "short"),
    [
        ({"name": "my_node"}, "my_node"),
        ({"name": "n", "namespace": "ns"}, "n"),
        ({}, "Identity"),
    ],
)
def test_short_name(kwargs: dict[str, Any], short: str) -> None:
    assert node(identity, "a", "b", **kwargs).short_name == short


def test_short_name_title_cases_the_function_name() -> None:
    assert node(split_pair, "p", ["a", "b"]).short_name == "Split Pair"


@pytest.mark.parametrize(
    ("namespace", "prefixes"),
    [(None, []), ("a", ["a"]), ("a.b.c", ["a", "a.b", "a.b.c"])],
)
def test_namespace_prefixes(namespace: str | None, prefixes: list[str]) -> None:
    made = node(identity, "a.x" if namespace else "x", "y", namespace=namespace)
    assert made.namespace == namespace
    assert made.namespace_prefixes == prefixes


# --- tags and confirms ---------------------------------------------------------------------------


def test_tags_accept_one_or_many_and_are_a_copy() -> None:
    assert node(identity, "a", "b", tags="t").tags == {"t"}
    made = node(identity, "a", "b", tags=["t", "u", "t"])
    assert made.tags == {"t", "u"}
    made.tags.add("sneaky")
    assert made.tags == {"t", "u"}


def test_tag_returns_a_new_node_and_leaves_the_old_one() -> None:
    original = node(identity, "a", "b", tags="t")
    tagged = original.tag(["u", "v"])
    assert tagged is not original
    assert tagged.tags == {"t", "u", "v"}
    assert original.tags == {"t"}
    assert tagged == original
    assert hash(tagged) == hash(original)
    assert original.tag("t") is original


def test_tag_validates_tags() -> None:
    with pytest.raises(InvalidNodeError, match="not a valid node tag"):
        node(identity, "a", "b").tag("bad tag")


def test_confirms() -> None:
    assert node(identity, "a", "b", confirms="a").confirms == ["a"]
    assert node(identity, "a", "b", confirms=["a", "x"]).confirms == ["a", "x"]
    assert node(identity, "a", "b").confirms == []


# --- value semantics -----------------------------------------------------------------------------


def test_equality_uses_name_inputs_and_outputs_only() -> None:
    first = node(identity, "a", "b", name="n", tags="x")
    second = node(lambda v: v, "a", "b", name="n", tags="y")
    assert first == second
    assert hash(first) == hash(second)
    assert len({first, second}) == 1


def test_dict_order_does_not_matter_list_order_does() -> None:
    one = node(keywords, {"first": "a", "second": "b"}, "c", name="n")
    two = node(keywords, {"second": "b", "first": "a"}, "c", name="n")
    assert one == two
    assert node(biconcat, ["a", "b"], "c", name="n") != node(biconcat, ["b", "a"], "c", name="n")


def test_a_single_name_and_a_one_item_list_differ() -> None:
    assert node(identity, "a", "b", name="n") != node(identity, "a", ["b"], name="n")


def test_comparing_with_other_types() -> None:
    made = node(identity, "a", "b")
    assert made != "node"
    assert made.__eq__(3) is NotImplemented
    with pytest.raises(TypeError):
        _ = made < 3


def test_ordering_is_by_name_then_datasets_and_never_fails() -> None:
    nodes = [
        node(identity, "a", None, name="b"),
        node(identity, "a", "x", name="a"),
        node(constant, None, "x", name="c"),
        node(identity, "a", ["x"], name="c"),
    ]
    assert [n.name for n in sorted(nodes)] == ["a", "b", "c", "c"]


def test_str_and_repr() -> None:
    assert str(node(identity, "a", "b")) == "identity([a]) -> [b]"
    assert str(node(biconcat, ["a", "b"], "c", name="n")) == "n: biconcat([a;b]) -> [c]"
    assert str(node(constant, None, ["x"])) == "constant(None) -> [x]"
    # The text shows the name as given; `name` holds the namespaced one.
    namespaced = node(identity, "a", None, name="n", namespace="ns")
    assert str(namespaced) == "n: identity([a]) -> None"
    assert namespaced.name == "ns.n"
    assert repr(node(identity, "a", "b")) == "Node(identity, 'a', 'b', None)"
    assert repr(node(biconcat, ["a", "b"], {"k": "c"}, name="n")) == (
        "Node(biconcat, ['a', 'b'], {'k': 'c'}, 'n')"
    )


# --- immutability and copies ---------------------------------------------------------------------


@pytest.mark.parametrize("attribute", ["name", "_name", "_func", "_inputs", "tags", "new_attr"])
def test_nodes_are_frozen(attribute: str) -> None:
    made = node(identity, "a", "b")
    with pytest.raises(AttributeError):
        setattr(made, attribute, None)
    with pytest.raises(AttributeError):
        delattr(made, "_name")


def test_input_lists_given_by_the_caller_are_copied() -> None:
    names = ["a", "b"]
    made = node(biconcat, names, "c")
    names.append("z")
    made.inputs.append("y")
    assert made.inputs == ["a", "b"]


def test_copy_builds_a_new_validated_node() -> None:
    original = node(identity, "a", "b", name="n", tags="t", confirms="a", namespace="ns")
    changed = original._copy(func=constant, inputs=None)
    assert changed.func is constant
    assert changed.inputs == []
    assert (changed.name, changed.tags, changed.confirms) == ("ns.n", {"t"}, ["a"])
    assert original.func is identity
    with pytest.raises(NodeSignatureError):
        original._copy(inputs=["a", "b"])
    with pytest.raises(TypeError, match="unexpected argument"):
        original._copy(colour="red")


def test_copy_module_works() -> None:
    made = node(identity, "a", "b", tags="t")
    for clone in (copy.copy(made), copy.deepcopy(made)):
        assert clone == made
        assert clone.tags == {"t"}


# --- pickling ------------------------------------------------------------------------------------


def test_pickles_by_value() -> None:
    made = node(biconcat, {"a": "x", "b": "y"}, "z", name="n", tags=["t"], confirms="x")
    clone = pickle.loads(pickle.dumps(made))
    assert clone == made
    assert (clone.func, clone.tags, clone.confirms, clone.inputs) == (
        biconcat,
        {"t"},
        ["x"],
        ["x", "y"],
    )
    assert clone.run({"x": 1, "y": 2}) == {"z": 3}
    with pytest.raises(AttributeError):
        clone._name = "other"


def test_hash_is_recomputed_in_the_process_that_loads_a_node() -> None:
    # A node pickled where str hashes differ (another hash seed) must still be found in sets.
    code = (
        "import pickle, sys\n"
        "from ductwork.pipeline import node\n"
        "from tests.pipeline.funcs import identity\n"
        "sys.stdout.buffer.write(pickle.dumps(node(identity, 'a', 'b', name='n')))\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, env=env, cwd=ROOT, check=True
    )
    loaded = pickle.loads(out.stdout)
    local = node(identity, "a", "b", name="n")
    assert hash(loaded) == hash(local)
    assert loaded in {local}


# --- the dotted-name warning ---------------------------------------------------------------------


def test_dotted_dataset_name_warns_once_per_name() -> None:
    with pytest.warns(UserWarning, match="Dataset name 'a.b' contains '.' characters") as record:
        node(identity, "a.b", "c")
    assert record[0].filename == __file__
    with pytest.warns(UserWarning, match="'x.y' contains '.'"):
        node(identity, "x.y", "z")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        node(identity, "a.b", "d")  # the same name again: already said


@pytest.mark.parametrize("where", ["inputs", "outputs"])
def test_dotted_name_outside_the_nodes_namespace_warns(where: str) -> None:
    names = {"inputs": "ns.in", "outputs": "ns.out", where: "elsewhere.data"}
    with pytest.warns(UserWarning, match="'elsewhere.data' contains '.'"):
        node(identity, names["inputs"], names["outputs"], namespace="ns")


@pytest.mark.parametrize(
    ("inputs", "namespace"),
    [("params:a.b", None), ("ns.a", "ns"), ("ns.a", "ns.inner"), ("plain", None)],
)
def test_no_dotted_name_warning_for_params_and_own_namespace(
    inputs: str, namespace: str | None
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        node(identity, inputs, "out", namespace=namespace)


def test_dotted_name_of_another_namespace_warns() -> None:
    with pytest.warns(UserWarning, match="top-level namespace \\('ns'\\)"):
        node(identity, "other.a", "out", namespace="ns")


def test_name_tuples_match_the_lists_without_copying() -> None:
    n = node(lambda a, b: (a, b), ["a", "b"], ["c", "d"], name="pair")
    assert n.input_names == ("a", "b") == tuple(n.inputs)
    assert n.output_names == ("c", "d") == tuple(n.outputs)
    assert n.input_names is n.input_names
    confirming = node(lambda a: a, "a", "b", confirms=["x", "y"], name="confirming")
    assert confirming.confirm_names == ("x", "y") == tuple(confirming.confirms)


def test_a_node_adds_one_object_for_the_garbage_collector_to_visit() -> None:
    # Every tracked object is visited on each full collection; during a run of a large
    # pipeline, those visits cost more per node than the run itself. Counted in a fresh
    # interpreter: a thread another test left behind (a Dask client's event loop) allocates
    # objects of its own between the two counts.
    code = (
        "import gc\n"
        "from ductwork.pipeline import node\n"
        "from tests.pipeline.funcs import identity\n"
        "gc.collect()\n"
        "before = len(gc.get_objects())\n"
        "nodes = [node(identity, f'd{i}', f'd{i + 1}', name=f'n{i}') for i in range(1000)]\n"
        "gc.collect()\n"
        "assert nodes[0].tags == nodes[1].tags == set()\n"
        "print(len(gc.get_objects()) - before)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, cwd=ROOT, check=True, timeout=60
    )
    assert int(out.stdout) < 1.1 * 1000  # was three per node


# --- replacing the function (hooks that decorate nodes) -------------------------------------------


def _doubled(func: Any) -> Any:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return 2 * func(*args, **kwargs)

    return wrapper


def test_func_can_be_replaced_and_the_node_keeps_its_identity() -> None:
    made = node(identity, "a", "b")
    name, key = made.name, hash(made)
    made.func = _doubled(made.func)
    assert made.run({"a": 21}) == {"b": 42}
    assert (made.name, hash(made)) == (name, key)
    assert str(made) == "identity([a]) -> [b]"  # wraps() kept the function's name


def test_func_must_stay_callable() -> None:
    made = node(identity, "a", "b")
    with pytest.raises(InvalidNodeError, match="'func' must be callable, got int"):
        made.func = 3  # type: ignore[assignment]
    assert made.run({"a": 1}) == {"b": 1}


def test_a_bare_partial_shows_as_partial_and_names_its_function() -> None:
    bare = node(functools.partial(identity), "a", "b")
    assert str(bare) == "<partial>([a]) -> [b]"
    assert bare.short_name == "<Partial>"
    wrapped = node(functools.update_wrapper(functools.partial(identity), identity), "a", "b")
    assert str(wrapped) == "identity([a]) -> [b]"
    assert wrapped.name.startswith("partial(identity)__")

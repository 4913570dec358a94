"""find_unpicklable: which part of an object stops it from being pickled."""

from __future__ import annotations

import functools
import pickle
import threading
from typing import Any

from ductwork.io.pickling import find_unpicklable


class Holder:
    def __init__(self, **attributes: Any) -> None:
        self.__dict__.update(attributes)


class Slotted:
    __slots__ = ("lock", "name")

    def __init__(self) -> None:
        self.name = "x"
        self.lock = threading.Lock()


class RefusesPickling:
    def __reduce__(self) -> Any:
        raise TypeError("I stay here")


def test_picklable_objects_have_no_reasons() -> None:
    assert find_unpicklable({"a": [1, (2, 3)], "b": Holder(x=1)}) == []
    assert find_unpicklable(lambda x: x + 1) == []  # cloudpickle sends lambdas by value


def test_attribute_is_named() -> None:
    assert find_unpicklable(Holder(client=threading.Lock(), ok=1)) == [
        "attribute 'client' holds a '_thread.lock' that cannot be pickled"
    ]


def test_nested_attributes_mapping_and_sequence_paths() -> None:
    obj = Holder(inner=Holder(items=[1, {"key": threading.Lock()}]))
    assert find_unpicklable(obj) == [
        "attribute 'inner.items[1]['key']' holds a '_thread.lock' that cannot be pickled"
    ]


def test_every_failing_attribute_is_reported() -> None:
    reasons = find_unpicklable(Holder(a=threading.Lock(), b=RefusesPickling()))
    assert reasons == [
        "attribute 'a' holds a '_thread.lock' that cannot be pickled",
        f"attribute 'b' holds a '{__name__}.RefusesPickling' that cannot be pickled",
    ]


def test_slots_are_inspected() -> None:
    assert find_unpicklable(Slotted()) == [
        "attribute 'lock' holds a '_thread.lock' that cannot be pickled"
    ]


def test_closures_and_partials_of_node_functions() -> None:
    lock = threading.Lock()

    def uses_lock(x: int) -> int:
        with lock:
            return x

    assert find_unpicklable(uses_lock) == [
        "attribute '<closure lock>' holds a '_thread.lock' that cannot be pickled"
    ]
    partial = functools.partial(print, file=threading.Lock())
    assert find_unpicklable(partial) == [
        "attribute 'keywords['file']' holds a '_thread.lock' that cannot be pickled"
    ]


def test_bound_methods_point_at_the_instance() -> None:
    class Plugin:
        def __init__(self) -> None:
            self.lock = threading.Lock()

        def hook(self) -> None:
            pass

    assert find_unpicklable(Plugin().hook) == [
        "attribute '__self__.lock' holds a '_thread.lock' that cannot be pickled"
    ]


def test_without_a_single_culprit_the_error_itself_is_given() -> None:
    reasons = find_unpicklable(RefusesPickling())
    assert len(reasons) == 1
    assert reasons[0].startswith(f"a '{__name__}.RefusesPickling' cannot be pickled: ")
    assert "I stay here" in reasons[0]


def test_another_pickler_can_be_used() -> None:
    # The standard pickler cannot send a lambda; cloudpickle can.
    obj = Holder(func=lambda: 1)
    assert find_unpicklable(obj) == []
    assert find_unpicklable(obj, dumps=pickle.dumps) == [
        "attribute 'func' holds a 'function' that cannot be pickled"
    ]


def test_self_references_do_not_loop() -> None:
    obj = Holder(lock=threading.Lock())
    obj.__dict__["me"] = obj
    assert find_unpicklable(obj) == [
        "attribute 'lock' holds a '_thread.lock' that cannot be pickled"
    ]


def test_a_shared_culprit_is_reported_at_each_place() -> None:
    lock = threading.Lock()
    assert find_unpicklable(Holder(a=lock, b=[lock])) == [
        "attribute 'a' holds a '_thread.lock' that cannot be pickled",
        "attribute 'b[0]' holds a '_thread.lock' that cannot be pickled",
    ]

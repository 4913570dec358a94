"""Sound content hashes of Python values: equal hashes mean values a node cannot tell apart.

A value is fed to an xxh3-128 hasher as a stream of tagged records: every record starts with the
value's exact type (so ``1``, ``1.0``, ``True`` and ``"1"`` differ), then its length, then its
content, so two different values never produce the same stream. Containers recurse; numpy arrays
and pandas objects hash their dtype, shape, labels and raw buffers (no element-by-element Python
loop for numbers). A value whose type is not known to be hashed soundly raises
:class:`Unhashable`: the caller then treats the node as a miss, never a hit.
"""

from __future__ import annotations

import array
import dataclasses
import datetime
import enum
import math
import pathlib
import sys
from collections.abc import Callable
from typing import Any

import xxhash

__all__ = ["Unhashable", "ValueHasher", "hash_value"]

_MAX_DEPTH = 200


class Unhashable(Exception):
    """The value (or a part of it, named in the message) cannot be hashed soundly."""


def hash_value(value: Any, describe_callable: Callable[[Any], bytes] | None = None) -> bytes:
    """The 16-byte content hash of ``value``.

    Args:
        value: What to hash.
        describe_callable: Hashes a function or class found inside the value (by its code); when
            not given, functions and classes are :class:`Unhashable`.

    Raises:
        Unhashable: Some part of the value cannot be hashed soundly.
    """
    hasher = ValueHasher(describe_callable)
    hasher.feed(value)
    return hasher.digest()


class ValueHasher:
    """Feeds values into one running hash (see the module docstring)."""

    def __init__(self, describe_callable: Callable[[Any], bytes] | None = None) -> None:
        self._hash = xxhash.xxh3_128()
        self._describe_callable = describe_callable
        self._depth = 0
        self._seen: set[int] = set()

    def digest(self) -> bytes:
        """The hash of everything fed so far."""
        return self._hash.digest()

    def _tag(self, kind: str, size: int = 0) -> None:
        self._hash.update(f"\x00{kind}:{size}\x00".encode())

    def _bytes(self, kind: str, data: bytes | memoryview) -> None:
        self._tag(kind, len(data))
        self._hash.update(data)

    def feed(self, value: Any) -> None:
        """Add ``value`` to the hash.

        Raises:
            Unhashable: Some part of ``value`` cannot be hashed soundly.
        """
        self._depth += 1
        try:
            if self._depth > _MAX_DEPTH:
                raise Unhashable("the value nests too deeply (or refers to itself)")
            self._feed(value)
        finally:
            self._depth -= 1

    def _feed(self, value: Any) -> None:
        kind = type(value)
        simple = _SIMPLE.get(kind)
        if simple is not None:
            self._bytes(kind.__qualname__, simple(value))
            return
        container = _CONTAINERS.get(kind)
        if container is not None:
            self._container(value, container)
            return
        simple = _lazy_simple(kind)
        if simple is not None:
            self._bytes(kind.__qualname__, simple(value))
            return
        self._other(value, kind)

    def _container(self, value: Any, how: str) -> None:
        if id(value) in self._seen:
            raise Unhashable("the value refers to itself")
        self._seen.add(id(value))
        try:
            if how == "seq":
                self._tag(type(value).__qualname__, len(value))
                for item in value:
                    self.feed(item)
            elif how == "map":
                self._tag("dict", len(value))
                for key, item in value.items():  # insertion order: a node may depend on it
                    self.feed(key)
                    self.feed(item)
            else:
                self._set(value)
        finally:
            self._seen.discard(id(value))

    def _set(self, value: Any) -> None:
        parts = sorted(hash_value(item, self._describe_callable) for item in value)
        self._tag(type(value).__qualname__, len(parts))
        for part in parts:
            self._hash.update(part)

    def _other(self, value: Any, kind: type) -> None:
        module = kind.__module__.split(".")[0]
        if module == "numpy":
            self._numpy(value)
        elif module == "pandas":
            self._pandas(value)
        elif isinstance(value, enum.Enum):
            self._tag(f"enum {_class_path(kind)}")
            self.feed(value.value)
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            self._dataclass(value)
        elif isinstance(value, tuple) and hasattr(kind, "_fields"):  # a NamedTuple
            self._tag(f"namedtuple {_class_path(kind)}", len(value))
            for item in value:
                self.feed(item)
        elif isinstance(value, pathlib.PurePath):
            self._bytes(f"path {kind.__qualname__}", str(value).encode())
        elif self._describe_callable is not None and (callable(value) or isinstance(value, type)):
            self._bytes("callable", self._describe_callable(value))
        else:
            raise Unhashable(f"a value of type {_class_path(kind)} cannot be hashed soundly")

    def _dataclass(self, value: Any) -> None:
        fields = dataclasses.fields(value)
        self._tag(f"dataclass {_class_path(type(value))}", len(fields))
        if self._describe_callable is not None:
            self._hash.update(self._describe_callable(type(value)))
        for item in fields:
            self.feed(item.name)
            self.feed(getattr(value, item.name))

    def _numpy(self, value: Any) -> None:
        import numpy as np  # noqa: PLC0415 - only when a value is numpy's

        if isinstance(value, np.ndarray):
            self._array(value)
        elif isinstance(value, np.generic):
            self._tag(f"numpy scalar {value.dtype.str}")
            self._array(np.asarray(value))
        elif isinstance(value, np.dtype):
            self._bytes("numpy dtype", str(value.descr).encode())
        else:
            raise Unhashable(f"a value of type {_class_path(type(value))} cannot be hashed soundly")

    def _array(self, array: Any) -> None:
        import numpy as np  # noqa: PLC0415 - only when a value is numpy's

        self._bytes("ndarray", f"{array.dtype.descr!r}|{array.shape!r}".encode())
        if array.dtype.hasobject:
            for item in array.ravel(order="C").tolist():
                self.feed(item)
            return
        data = np.ascontiguousarray(array).reshape(-1).view(np.uint8)
        self._bytes("buffer", data.data)

    def _pandas(self, value: Any) -> None:
        import pandas as pd  # noqa: PLC0415 - only when a value is pandas'

        if isinstance(value, pd.DataFrame):
            self._tag("DataFrame", value.shape[1])
            self._pandas_index(value.index)
            self._pandas_index(value.columns)
            for _, column in value.items():  # by position (duplicate labels too), no indexing
                self._pandas_values(column)
            self.feed(dict(value.attrs))
        elif isinstance(value, pd.Series):
            self._tag("Series")
            self.feed(value.name)
            self._pandas_index(value.index)
            self._pandas_values(value)
        elif isinstance(value, pd.Index):
            self._pandas_index(value)
        elif isinstance(value, pd.Timestamp):
            self._bytes("Timestamp", f"{value.value}|{value.unit}|{value.tz}".encode())
        elif isinstance(value, pd.Timedelta):
            self._bytes("Timedelta", f"{value.value}|{value.unit}".encode())
        elif value is pd.NaT or value is pd.NA:
            self._tag(repr(value))
        else:
            raise Unhashable(f"a value of type {_class_path(type(value))} cannot be hashed soundly")

    def _pandas_index(self, index: Any) -> None:
        self._tag(f"index {type(index).__qualname__}", len(index))
        self.feed(list(index.names))
        if type(index).__qualname__ == "MultiIndex":
            for level in range(index.nlevels):
                self._pandas_values(index.get_level_values(level))
        elif type(index).__qualname__ == "RangeIndex":
            self.feed((index.start, index.stop, index.step))
        else:
            self._pandas_values(index)

    def _pandas_values(self, values: Any) -> None:
        import numpy as np  # noqa: PLC0415 - only when a value is numpy's

        dtype = values.dtype
        self._bytes("pandas dtype", f"{type(dtype).__qualname__}|{dtype}".encode())
        if type(dtype).__qualname__ == "CategoricalDtype":
            self._pandas_index(dtype.categories)
            self.feed(bool(dtype.ordered))
            self._array(np.asarray(values.cat.codes if hasattr(values, "cat") else values.codes))
        elif isinstance(dtype, np.dtype) and not dtype.hasobject:
            self._array(values.to_numpy(copy=False))
        else:
            # Extension, string and object columns: their elements as Python values, with
            # missing values kept apart from every real value.
            items = np.asarray(values, dtype=object).tolist()
            if items and set(map(type, items)) == {str}:
                self._strings(items)
                return
            self._tag("elements", len(items))
            for item in items:
                self.feed(item)

    def _strings(self, items: list[str]) -> None:
        """A column of strings (nothing missing) in one go: every length in code points, then
        all of them joined, in UTF-8. The lengths cut the joined text back into the same
        strings, so two different columns never give the same bytes."""
        self._tag("strings", len(items))
        self._hash.update(array.array("q", map(len, items)).tobytes())
        self._hash.update("".join(items).encode("utf-8", "surrogatepass"))


def _class_path(kind: type) -> str:
    return f"{kind.__module__}.{kind.__qualname__}"


def _float(value: float) -> bytes:
    # float.hex is exact and tells -0.0 from 0.0; every NaN is one value to a node.
    return b"nan" if math.isnan(value) else value.hex().encode()


def _int(value: int) -> bytes:
    return str(value).encode()


def _complex(value: complex) -> bytes:
    return _float(value.real) + b"|" + _float(value.imag)


def _date(value: datetime.date) -> bytes:
    return repr(value).encode()


def _datetime(value: datetime.datetime) -> bytes:
    return f"{value.isoformat()}|{value.fold}|{value.tzinfo!r}".encode()


def _time(value: datetime.time) -> bytes:
    return f"{value.isoformat()}|{value.fold}|{value.tzinfo!r}".encode()


_SIMPLE: dict[type, Callable[[Any], bytes]] = {
    type(None): lambda _: b"",
    bool: lambda value: b"1" if value else b"0",
    int: _int,
    float: _float,
    complex: _complex,
    str: lambda value: value.encode("utf-8", "surrogatepass"),
    bytes: bytes,
    bytearray: bytes,
    memoryview: lambda value: value.tobytes(),
    range: lambda value: f"{value.start}|{value.stop}|{value.step}".encode(),
    slice: lambda value: repr(value).encode(),
    type(Ellipsis): lambda _: b"",
    datetime.date: _date,
    datetime.datetime: _datetime,
    datetime.time: _time,
    datetime.timedelta: lambda value: repr(value).encode(),
    datetime.timezone: lambda value: repr(value).encode(),
}
_CONTAINERS: dict[type, str] = {
    tuple: "seq",
    list: "seq",
    dict: "map",
    set: "set",
    frozenset: "set",
}
# Types of modules that this one does not import (each costs a millisecond or two, and an
# incremental run imports this module): a value of one means its module is loaded already.
_BY_NAME: dict[tuple[str, str], Callable[[Any], bytes]] = {
    ("decimal", "Decimal"): lambda value: str(value).encode(),
    ("fractions", "Fraction"): lambda value: f"{value.numerator}/{value.denominator}".encode(),
    ("uuid", "UUID"): lambda value: value.bytes,
}


def _lazy_simple(kind: type) -> Callable[[Any], bytes] | None:
    """The encoder of ``kind`` when it is exactly one of :data:`_BY_NAME`'s types (learnt into
    :data:`_SIMPLE` on first sight), else None."""
    module, name = getattr(kind, "__module__", ""), kind.__qualname__
    encode = _BY_NAME.get((module, name))
    if encode is None or getattr(sys.modules.get(module), name, None) is not kind:
        return None
    _SIMPLE[kind] = encode
    return encode

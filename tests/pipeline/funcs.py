"""Plain module-level functions for test nodes (module-level so nodes pickle by value)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def identity(x: Any) -> Any:
    return x


def biconcat(a: Any, b: Any) -> Any:
    return a + b


def triconcat(a: Any, b: Any, c: Any) -> Any:
    return a + b + c


def constant() -> int:
    return 42


def sink(x: Any) -> None:
    return None


def fan_in(*parts: Any) -> list[Any]:
    return list(parts)


def keywords(first: Any, second: Any, *, third: Any = None) -> tuple[Any, Any, Any]:
    return first, second, third


def split_pair(pair: Any) -> tuple[Any, Any]:
    return pair[0], pair[1]


def as_dict(x: Any) -> dict[str, Any]:
    return {"double": 2 * x, "triple": 3 * x}


def pairs(n: int) -> Iterator[tuple[int, int]]:
    for i in range(n):
        yield i, i * i


def dict_chunks(n: int) -> Iterator[dict[str, int]]:
    for i in range(n):
        yield {"low": i, "high": 100 + i}


def numbers(n: int) -> Iterator[int]:
    yield from range(n)


def fail(x: Any) -> Any:
    raise RuntimeError(f"boom on {x!r}")


class Adder:
    """A callable object with no ``__name__``."""

    def __call__(self, a: int, b: int) -> int:
        return a + b

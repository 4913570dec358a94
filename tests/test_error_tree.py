"""The error tree drawn in ``ductwork.exceptions``'s docstring is the real one."""

from __future__ import annotations

import inspect
import re

from ductwork import exceptions
from ductwork.exceptions import DuctworkError


def _drawn() -> set[tuple[str, str, str]]:
    """(class, parent, builtin bases) for each line of the docstring's tree."""
    doc = exceptions.__doc__ or ""
    tree = doc[doc.index("    DuctworkError") :]
    lines: set[tuple[str, str, str]] = set()
    parents: list[str] = []
    for line in tree.splitlines():
        match = re.match(r"( *)(\w+Error)\s*(?:\[(.*)\])?", line)
        if not match:
            continue
        depth = (len(match.group(1)) - 4) // 4
        del parents[depth:]
        lines.add((match.group(2), parents[-1] if parents else "", match.group(3) or ""))
        parents.append(match.group(2))
    return lines


def _real() -> set[tuple[str, str, str]]:
    lines: set[tuple[str, str, str]] = set()
    for cls in vars(exceptions).values():
        if not (inspect.isclass(cls) and issubclass(cls, DuctworkError)):
            continue
        builtins = ", ".join(b.__name__ for b in cls.__bases__ if b.__module__ == "builtins")
        ours = [b.__name__ for b in cls.__bases__ if issubclass(b, DuctworkError)]
        if cls is DuctworkError:
            lines.add((cls.__name__, "", ""))
        for parent in ours:
            lines.add((cls.__name__, parent, builtins))
    return lines


def test_the_docstring_draws_every_error_under_its_parents() -> None:
    assert _drawn() == _real()

"""Suggestions for misspelt names, shared by every "does not contain" error."""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable

# difflib compares each unknown name with every candidate; past a handful of unknown names a
# longer list of suggestions helps nobody, and big pipelines have many candidates.
_MAX_NAMES_TO_SUGGEST_FOR = 10


def close_matches(unknown: Iterable[str], candidates: Collection[str]) -> list[str]:
    """Known names that look like the unknown ones (a typo, a missing prefix), no repeats."""
    found: dict[str, None] = {}
    for name in sorted(unknown)[:_MAX_NAMES_TO_SUGGEST_FOR]:
        found.update(dict.fromkeys(difflib.get_close_matches(name, candidates, n=3)))
    return list(found)


def did_you_mean(unknown: Iterable[str], candidates: Collection[str]) -> str:
    """``" Did you mean: [...]?"`` or ``""`` when nothing is close."""
    matches = close_matches(unknown, candidates)
    return f" Did you mean: {matches}?" if matches else ""

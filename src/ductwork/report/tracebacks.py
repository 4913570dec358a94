"""Tracebacks as the terminal shows them: the user's frames, ductwork's own folded away."""

from __future__ import annotations

import re
from pathlib import Path

import ductwork

__all__ = ["split_traceback"]

_PACKAGE = str(Path(ductwork.__file__).parent)
# A frame of ductwork's own, wherever the journal was written: the installed package, or a path
# that ends in one of its modules.
_OWN_PATH = re.compile(r"[/\\]ductwork[/\\](?:[a-z_]+[/\\])*[a-z_]+\.py$")
_FRAME = re.compile(r'^  File "(?P<path>[^"]*)", line \d+')


def _is_own(path: str) -> bool:
    return path.startswith(_PACKAGE) or bool(_OWN_PATH.search(path))


def split_traceback(text: str) -> list[tuple[bool, str]]:
    """Cut a formatted traceback into pieces: (True, ductwork's frames) or (False, the rest).

    A frame is its ``  File "...", line N, in f`` line and the indented lines under it (the
    source line, the ``^^^`` markers). Consecutive frames of ductwork's own make one piece, which
    the report folds away as the terminal hides them.
    """
    pieces: list[tuple[bool, list[str]]] = []
    own = False
    for line in text.splitlines(keepends=True):
        frame = _FRAME.match(line)
        if frame:
            own = _is_own(frame.group("path"))
        elif not line.startswith("    "):
            own = False
        if pieces and pieces[-1][0] == own:
            pieces[-1][1].append(line)
        else:
            pieces.append((own, [line]))
    return [(own, "".join(lines).rstrip("\n")) for own, lines in pieces]

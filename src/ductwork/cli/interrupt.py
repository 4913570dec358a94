"""Ctrl-C during a run: the first stops the run cleanly, the second quits at once.

The first SIGINT raises ``KeyboardInterrupt`` in the main thread, as Python's own handler does;
the runner then stops its workers (nodes running on threads finish their current call, since a
thread cannot be stopped from outside) and the command writes the journal and exits with 130.
If that wait is too long for the user, a second Ctrl-C records what is known and exits with 130
without waiting.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType, TracebackType

__all__ = ["InterruptGuard"]

EXIT_CODE = 130
_logger = logging.getLogger("ductwork.cli")


class InterruptGuard:
    """Handles SIGINT within a ``with`` block (in the main thread; elsewhere it does nothing)."""

    def __init__(self, stop_now: Callable[[], None]) -> None:
        """Call ``stop_now`` before quitting on the second Ctrl-C."""
        self._stop_now = stop_now
        self._count = 0
        self._previous: object = None
        self._installed = False

    def __enter__(self) -> InterruptGuard:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
            self._installed = True
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)  # type: ignore[arg-type]
            self._installed = False

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self._count += 1
        if self._count == 1:
            _logger.warning(
                "Interrupted: stopping the run. Nodes running on threads finish their current "
                "call first; press Ctrl-C again to quit at once."
            )
            raise KeyboardInterrupt
        try:
            self._stop_now()
        finally:
            sys.stderr.flush()
            os._exit(EXIT_CODE)

"""Ctrl-C during a run: the first stops the run cleanly, the second quits at once.

The first SIGINT raises ``KeyboardInterrupt`` in the main thread, as Python's own handler does;
the runner then stops its workers (nodes running on threads finish their current call, since a
thread cannot be stopped from outside) and the command writes the journal and exits with 130.
If that wait is too long for the user, a second Ctrl-C records what is known and exits with 130
without waiting.

``SIGTERM`` and ``SIGHUP`` (a job scheduler stopping the run, a closed terminal) are handled the
same way, so that the journal records the run as interrupted instead of leaving it ``running``;
the command then exits with ``128 +`` the signal's number (143 for ``SIGTERM``), as a process
ended by that signal would.
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
_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)
# The real one, taken before `ductwork run` guards `os._exit` against nodes that call it.
_exit = os._exit
_logger = logging.getLogger("ductwork.cli")


class InterruptGuard:
    """Handles SIGINT within a ``with`` block (in the main thread; elsewhere it does nothing)."""

    def __init__(self, stop_now: Callable[[], None]) -> None:
        """Call ``stop_now`` before quitting on the second Ctrl-C."""
        self._stop_now = stop_now
        self._count = 0
        self._previous: dict[int, object] = {}
        self._installed = False
        self.signal: int | None = None

    @property
    def exit_code(self) -> int:
        """The exit code for a run this guard stopped: 130 for Ctrl-C, 128 + N for signal N."""
        return 128 + self.signal if self.signal not in (None, signal.SIGINT) else EXIT_CODE

    def __enter__(self) -> InterruptGuard:
        if threading.current_thread() is threading.main_thread():
            for number in _SIGNALS:
                self._previous[number] = signal.signal(number, self._handle)
            self._installed = True
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._installed:
            for number, previous in self._previous.items():
                signal.signal(number, previous)  # type: ignore[arg-type]
            self._installed = False

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self._count += 1
        if self._count == 1:
            self.signal = signum
            what = "" if signum == signal.SIGINT else f" by {signal.Signals(signum).name}"
            _logger.warning(
                "Interrupted%s: stopping the run. Nodes running on threads finish their current "
                "call first; press Ctrl-C again to quit at once.",
                what,
            )
            raise KeyboardInterrupt
        try:
            self._stop_now()
        finally:
            sys.stderr.flush()
            _exit(self.exit_code)

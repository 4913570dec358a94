"""How a node's failures are handled: retries with backoff, and time limits.

A :class:`Retry` set on a node (``node(..., retry=Retry(3))``) wins over the runner's default
(``SequentialRunner(retry=...)``); the same goes for ``timeout``. The policies are plain values:
the runners apply them.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass

from ductwork.exceptions import InvalidNodeError

__all__ = ["Retry", "check_timeout"]


@dataclass(frozen=True)
class Retry:
    """Run a failing node again, waiting longer each time.

    A node that raises one of the ``on`` exception types is run again (its inputs loaded afresh)
    until it succeeds or has made ``attempts`` attempts in all. Before attempt ``n + 1`` the
    runner waits ``backoff * factor ** (n - 1)`` seconds, at most ``max_backoff``, spread by
    ``± jitter`` (a fraction) so that many retrying nodes do not hit a service in step.

    Args:
        attempts: Attempts in all, the first included (``1`` means no retry).
        backoff: Seconds to wait before the second attempt.
        factor: How much longer each following wait is.
        max_backoff: The longest wait, in seconds.
        jitter: The random spread of each wait, as a fraction of it (0 to 1).
        on: The exception types worth retrying (their subclasses too). Anything else fails the
            node at once.

    Raises:
        ValueError: A number is out of range.
        TypeError: ``on`` holds something that is not an exception type.
    """

    attempts: int = 3
    backoff: float = 1.0
    factor: float = 2.0
    max_backoff: float = 60.0
    jitter: float = 0.1
    on: tuple[type[BaseException], ...] = (Exception,)

    def __post_init__(self) -> None:
        if isinstance(self.attempts, bool) or not isinstance(self.attempts, int):
            raise TypeError(f"Retry(attempts=...) must be an int, got {self.attempts!r}.")
        if self.attempts < 1:
            raise ValueError(f"Retry(attempts=...) must be at least 1, got {self.attempts}.")
        for name, low in (("backoff", 0.0), ("max_backoff", 0.0), ("factor", 1.0)):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= low):
                raise ValueError(f"Retry({name}=...) must be a number >= {low}, got {value!r}.")
        if not (isinstance(self.jitter, int | float) and 0 <= self.jitter <= 1):
            raise ValueError(f"Retry(jitter=...) must be between 0 and 1, got {self.jitter!r}.")
        on = self.on if isinstance(self.on, tuple) else (self.on,)
        if not on or not all(isinstance(t, type) and issubclass(t, BaseException) for t in on):
            raise TypeError(f"Retry(on=...) must be exception types, got {self.on!r}.")
        object.__setattr__(self, "on", on)

    def retries(self, error: BaseException, attempt: int) -> bool:
        """Whether to try again after ``error`` ended attempt number ``attempt`` (from 1)."""
        return attempt < self.attempts and isinstance(error, self.on)

    def delay(
        self, attempt: int, uniform: Callable[[float, float], float] = random.uniform
    ) -> float:
        """Seconds to wait after attempt number ``attempt`` (from 1) failed."""
        base = min(self.backoff * self.factor ** (attempt - 1), self.max_backoff)
        return max(0.0, base * (1 + uniform(-self.jitter, self.jitter)))


def check_timeout(timeout: object, owner: str) -> float | None:
    """Return ``timeout`` as seconds, or raise naming ``owner`` when it is not a positive number.

    Raises:
        InvalidNodeError: ``timeout`` is not ``None`` or a positive, finite number.
    """
    if timeout is None:
        return None
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, int | float)
        or not math.isfinite(timeout)
        or timeout <= 0
    ):
        raise InvalidNodeError(
            f"{owner}: 'timeout' must be a positive number of seconds, got {timeout!r}."
        )
    return float(timeout)

"""``ductwork run`` ends only when the run has ended, and never with 0 when it did not finish.

Python has three ways to end a process from inside a node that ``try`` cannot see coming:

- ``SystemExit`` (``sys.exit``, argparse, a click ``main()``): the node shell classifies it as
  the node's failure (:class:`~ductwork.exceptions.NodeExitError`), on every runner;
- ``os._exit``: ends the process at once, skipping every ``finally``. While the run is going,
  the command replaces it, in its own process only (forked workers keep the real one), with a
  function that raises ``NodeExitError`` where it was called: the node fails instead;
- a signal whose default action ends the process (``SIGTERM``, ``SIGHUP``): handled like Ctrl-C
  (see :mod:`ductwork.cli.interrupt`): the run stops, the journal records it interrupted, and the
  command exits with ``128 + the signal's number``.

A worker process that ends itself is a lost worker (``WorkerLostError``): the node fails.
``SIGKILL`` cannot be handled: the journal then stays ``running``, its process gone, and
``--resume`` knows it is over (it checks that the process is alive).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

from ductwork.exceptions import NodeExitError

__all__ = ["guard_process_exit"]


@contextmanager
def guard_process_exit() -> Iterator[None]:
    """Within the block, ``os._exit`` called in this process raises ``NodeExitError``."""
    real_exit = os._exit
    owner = os.getpid()

    def refuse_exit(status: int) -> NoReturn:
        if os.getpid() != owner:  # a forked child (a worker process): its exit is its own
            real_exit(status)
        raise NodeExitError(
            f"the node called os._exit({status!r}) and was stopped: a node cannot end the run; "
            "return or raise an exception instead.",
            status,
        )

    os._exit = refuse_exit
    try:
        yield
    finally:
        os._exit = real_exit

"""ductwork's runners inside unmodified Kedro projects.

::

    pip install 'ductwork[kedro]'
    kedro run --runner=ductwork.kedro.ParallelRunner
    kedro run --runner=ductwork.kedro.ThreadRunner --runner-params max_workers=8,retries=2

``SequentialRunner``, ``ThreadRunner``, ``ParallelRunner`` and ``DaskRunner`` subclass
``kedro.runner.AbstractRunner``; they run the session's pipeline, catalog and hooks on ductwork's
runners (see :mod:`ductwork.kedro.runners`). Importing this package imports Kedro.
"""

from __future__ import annotations

try:
    import kedro  # noqa: F401
except ImportError as error:  # pragma: no cover - depends on the installation
    raise ModuleNotFoundError(
        f"ductwork.kedro runs inside Kedro projects and needs Kedro: pip install "
        f"'ductwork[kedro]' ({error})",
        name="kedro",
    ) from error

from ductwork.kedro.runners import DaskRunner, ParallelRunner, SequentialRunner, ThreadRunner

__all__ = ["DaskRunner", "ParallelRunner", "SequentialRunner", "ThreadRunner"]

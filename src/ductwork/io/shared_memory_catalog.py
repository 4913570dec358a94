"""The catalog a process runner uses: undeclared datasets become SharedMemoryDataset."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from ductwork.exceptions import DatasetNotPicklableError
from ductwork.io.catalog_config_resolver import Patterns
from ductwork.io.data_catalog import DataCatalog
from ductwork.io.pickling import dataset_problems
from ductwork.io.shared_memory_dataset import SharedMemoryDataset

_ADVICE = (
    "A process runner sends datasets to its workers by pickling them. Run with a thread or "
    "sequential runner, or make these datasets picklable (for example, create clients on first "
    "use and leave them out in __getstate__)."
)


def unpicklable_datasets(datasets: Mapping[str, Any]) -> dict[str, list[str]]:
    """Find the datasets that cannot be sent to another process, and why.

    A dataset cannot travel if it is marked ``_SINGLE_PROCESS`` or cannot be pickled (the reason
    then names the attribute that fails; see :func:`ductwork.io.pickling.find_unpicklable`).

    Returns:
        Each offender's name mapped to its reasons, in name order; empty if all can travel.
    """
    offenders: dict[str, list[str]] = {}
    for name in sorted(datasets):
        reasons = dataset_problems(datasets[name])
        if reasons:
            offenders[name] = reasons
    return offenders


class SharedMemoryDataCatalog(DataCatalog):
    """A :class:`DataCatalog` whose runtime default is :class:`SharedMemoryDataset`."""

    default_runtime_patterns: ClassVar[Patterns] = {
        "{default}": {"type": "ductwork.io.SharedMemoryDataset"}
    }

    def set_manager_datasets(self, manager: Any) -> None:
        """Give every created :class:`SharedMemoryDataset` the runner's ``manager``."""
        with self._lock:
            datasets = list(self._datasets.values())
        for dataset in datasets:
            if isinstance(dataset, SharedMemoryDataset):
                dataset.set_manager(manager)

    def validate_catalog(self, names: Iterable[str] | None = None) -> None:
        """Check that datasets can be sent to worker processes; report every offender at once.

        A dataset fails if it is marked ``_SINGLE_PROCESS`` or cannot be pickled; for the latter
        the report names the attribute that fails (see
        :func:`ductwork.io.pickling.find_unpicklable`).

        Args:
            names: Check only these datasets (creating them, from the runtime default if
                undeclared, as a run would); by default every dataset created so far.

        Raises:
            DatasetNotPicklableError: Naming each offender and why; ``offenders`` maps each name
                to its reasons.
        """
        if names is None:
            with self._lock:
                targets = dict(self._datasets)
        else:
            targets = {name: self.get(name, fallback_to_runtime_pattern=True) for name in names}
        offenders = unpicklable_datasets(targets)
        if offenders:
            lines = [f"  '{name}': {reason}" for name, why in offenders.items() for reason in why]
            raise DatasetNotPicklableError(
                "The following datasets cannot be used with multiprocessing: "
                f"{sorted(offenders)}\n" + "\n".join(lines) + f"\n{_ADVICE}",
                offenders,
            )

"""The catalog a process runner uses: undeclared datasets become SharedMemoryDataset."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from ductwork.exceptions import DatasetNotPicklableError
from ductwork.io.catalog_config_resolver import Patterns
from ductwork.io.data_catalog import DataCatalog
from ductwork.io.shared_memory_dataset import SharedMemoryDataset
from ductwork.io.travel import not_picklable_error, unpicklable_datasets


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
            headline = (
                f"The following datasets cannot be used with multiprocessing: {sorted(offenders)}"
            )
            raise not_picklable_error(headline, offenders, DatasetNotPicklableError)

"""The dataset a process-runner catalog creates for undeclared intermediates.

For now it keeps its data in the current process, exactly like :class:`MemoryDataset`. How data
travels between worker processes is decided by the process runner; ``set_manager`` is accepted so
that code written for Kedro's ``SharedMemoryDataset`` keeps working.
"""

from __future__ import annotations

from typing import Any

from ductwork.io.memory_dataset import MemoryDataset, TCopyMode


class SharedMemoryDataset(MemoryDataset):
    """An ephemeral in-memory dataset used for intermediates of process-runner catalogs.

    Args:
        manager: A ``multiprocessing`` manager (accepted for compatibility, not kept).
        copy_mode: As for :class:`MemoryDataset`.
        metadata: Free-form information for plugins.
    """

    def __init__(
        self,
        manager: Any = None,
        copy_mode: TCopyMode | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(copy_mode=copy_mode, metadata=metadata)
        self.set_manager(manager)

    def set_manager(self, manager: Any) -> None:
        """Accept the runner's manager.

        Nothing is kept: holding a manager would make the dataset impossible to pickle, and the
        data stays in this process.
        """
        del manager

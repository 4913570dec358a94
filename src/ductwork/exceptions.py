"""Every error ductwork raises, in one hierarchy.

All of them derive from :class:`DuctworkError`, so ``except DuctworkError`` catches anything the
library raised on its own account (a node's own exception is never wrapped: it reaches the caller
with its own type). Where Kedro raises a builtin type (``ValueError``, ``TypeError``, ``KeyError``)
for the same mistake, the ductwork class also derives from that builtin, so code written against
Kedro's behaviour keeps catching what it caught before.

The public modules re-export the classes that belong to them: ``ductwork.pipeline`` the pipeline
errors, ``ductwork.io`` the dataset errors, ``ductwork.runner`` the run errors.
"""

from __future__ import annotations

__all__ = [
    "CircularDependencyError",
    "ConfirmNotUniqueError",
    "DatasetAlreadyExistsError",
    "DatasetError",
    "DatasetNotFoundError",
    "DuctworkError",
    "MissingInputsError",
    "OutputNotUniqueError",
    "PipelineError",
    "RunnerError",
    "VersionAlreadyExistsError",
    "VersionNotFoundError",
]


class DuctworkError(Exception):
    """Base class of every error raised by ductwork itself."""


# --- pipeline model -------------------------------------------------------------------------------


class PipelineError(DuctworkError):
    """A pipeline is defined or queried in a way that cannot work."""


class OutputNotUniqueError(PipelineError):
    """Two nodes of one pipeline produce the same dataset."""


class ConfirmNotUniqueError(PipelineError):
    """Two nodes of one pipeline confirm the same dataset."""


class CircularDependencyError(PipelineError):
    """The nodes of a pipeline depend on each other in a cycle."""


# --- datasets and catalog -------------------------------------------------------------------------


class DatasetError(DuctworkError):
    """A dataset or the catalog failed to load, save, configure or find data."""


class DatasetNotFoundError(DatasetError):
    """A name is not in the catalog and no pattern matches it."""


class DatasetAlreadyExistsError(DatasetError):
    """A dataset is added under a name that is already taken."""


class VersionNotFoundError(DatasetError):
    """A versioned dataset has no version to load."""


class VersionAlreadyExistsError(DatasetError):
    """A save would overwrite an existing version, or versions disagree."""


# --- running --------------------------------------------------------------------------------------


class RunnerError(DuctworkError):
    """A run cannot start or cannot go on for a reason that is not a node's own exception."""


class MissingInputsError(RunnerError, ValueError):
    """Free inputs of the pipeline are not in the catalog, so the run cannot start."""

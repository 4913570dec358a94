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
    "DatasetConfigError",
    "DatasetError",
    "DatasetNotFoundError",
    "DatasetNotPicklableError",
    "DuctworkError",
    "EmptyPipelineError",
    "InvalidDatasetNameError",
    "InvalidNodeError",
    "InvalidPipelineError",
    "MissingInputsError",
    "NodeInputError",
    "NodeOutputError",
    "NodeSignatureError",
    "NotPicklableError",
    "OutputNotUniqueError",
    "PipelineError",
    "PipelineMappingError",
    "PipelineQueryError",
    "RunnerError",
    "UnknownDatasetError",
    "UnknownNamespaceError",
    "UnknownNodeError",
    "VersionAlreadyExistsError",
    "VersionNotFoundError",
    "WorkerLostError",
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


class InvalidNodeError(PipelineError, ValueError):
    """A node definition cannot work: not callable, bad names or tags, clashing outputs."""


class NodeSignatureError(PipelineError, TypeError):
    """A node's inputs do not bind to the parameters of its function."""


class InvalidDatasetNameError(PipelineError, ValueError):
    """A dataset name is malformed, e.g. it holds more than one transcoding separator."""


class NodeInputError(PipelineError, ValueError):
    """``Node.run`` was given inputs that do not match the node's declared inputs."""


class NodeOutputError(PipelineError, ValueError):
    """A node's function returned something that does not fit the node's declared outputs."""


class InvalidPipelineError(PipelineError, ValueError):
    """A pipeline is built from something that is not nodes, or from clashing nodes."""


class PipelineMappingError(PipelineError):
    """Namespacing or renaming (``inputs``, ``outputs``, ``parameters``) cannot be applied."""


class PipelineQueryError(PipelineError, ValueError):
    """A pipeline query names something the pipeline lacks, or leaves nothing."""


class UnknownNodeError(PipelineQueryError):
    """A query names nodes the pipeline does not contain."""


class UnknownDatasetError(PipelineQueryError):
    """A query names datasets the pipeline does not use."""


class UnknownNamespaceError(PipelineQueryError):
    """A query names namespaces no node of the pipeline belongs to."""


class EmptyPipelineError(PipelineQueryError):
    """Filtering a pipeline left no node."""


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


class DatasetConfigError(DatasetError):
    """A catalog entry cannot be turned into a dataset.

    The message names the catalog entry and, where one is at fault, the configuration key.
    """


class DatasetNotPicklableError(DatasetError):
    """Datasets cannot be sent to another process.

    Raised by ``SharedMemoryDataCatalog.validate_catalog`` with every offender at once.

    Attributes:
        offenders: Dataset name mapped to the reasons it cannot travel.
    """

    def __init__(self, message: str, offenders: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.offenders: dict[str, list[str]] = dict(offenders or {})

    def __reduce__(self) -> tuple[type[DatasetNotPicklableError], tuple[str, dict[str, list[str]]]]:
        # Keep the offenders when the error itself crosses a process boundary.
        return (type(self), (str(self), self.offenders))


# --- running --------------------------------------------------------------------------------------


class RunnerError(DuctworkError):
    """A run cannot start or cannot go on for a reason that is not a node's own exception."""


class MissingInputsError(RunnerError, ValueError):
    """Free inputs of the pipeline are not in the catalog, so the run cannot start."""


class WorkerLostError(RunnerError):
    """A worker process died while running a node."""


class NotPicklableError(RunnerError):
    """What a run must send to other processes (nodes, datasets, plugins) cannot be pickled.

    Raised before any node runs, with every offender at once.

    Attributes:
        offenders: What cannot travel (``"node 'train'"``, ``"dataset 'db'"``,
            ``"plugin 'timer'"``) mapped to the reasons, each naming the attribute that failed.
    """

    def __init__(self, message: str, offenders: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.offenders: dict[str, list[str]] = dict(offenders or {})

    def __reduce__(self) -> tuple[type[NotPicklableError], tuple[str, dict[str, list[str]]]]:
        return (type(self), (str(self), self.offenders))

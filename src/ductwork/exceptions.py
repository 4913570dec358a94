"""Every error ductwork raises, in one hierarchy.

All of them derive from :class:`DuctworkError`, so ``except DuctworkError`` catches anything the
library raised on its own account (a node's own exception is never wrapped: it reaches the caller
with its own type). Where Kedro raises a builtin type (``ValueError``, ``TypeError``, ``KeyError``)
for the same mistake, the ductwork class also derives from that builtin (in brackets below), so
code written against Kedro's behaviour keeps catching what it caught before.

The public modules re-export the classes that belong to them: ``ductwork.pipeline`` the pipeline
errors, ``ductwork.io`` the dataset errors, ``ductwork.runner`` the run errors. The tree (a
test keeps it true; add a new class here too)::

    DuctworkError
        DatasetError
            DatasetAlreadyExistsError
            DatasetConfigError
                CredentialsNotFoundError   [KeyError]
            DatasetNotFoundError
            DatasetNotPicklableError       (also a NotPicklableError)
            VersionAlreadyExistsError
            VersionNotFoundError
        JournalError
        PipelineError
            CircularDependencyError
            ConfirmNotUniqueError
            InvalidDatasetNameError        [ValueError]
            InvalidNodeError               [ValueError]
            InvalidPipelineError           [ValueError]
            NodeInputError                 [ValueError]
            NodeOutputError                [ValueError]
            NodeSignatureError             [TypeError]
            OutputNotUniqueError
            PipelineMappingError
            PipelineQueryError             [ValueError]
                EmptyPipelineError
                UnknownDatasetError
                UnknownNamespaceError
                UnknownNodeError
        ProjectConfigError
            YAMLFileError                  [ValueError]
        RunnerError
            HookResultError                [TypeError]
            MissingInputsError             [ValueError]
            NodeCancelledError
            NodeExitError
            NodeTimeoutError               [TimeoutError]
            NodesFailedError
            NotPicklableError              [AttributeError]
                DatasetNotPicklableError   (also a DatasetError)
            RemoteNodeError
            RunnerOptionError              [ValueError, TypeError]
            WorkerLostError
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "CircularDependencyError",
    "ConfirmNotUniqueError",
    "CredentialsNotFoundError",
    "DatasetAlreadyExistsError",
    "DatasetConfigError",
    "DatasetError",
    "DatasetNotFoundError",
    "DatasetNotPicklableError",
    "DuctworkDeprecationWarning",
    "DuctworkError",
    "EmptyPipelineError",
    "HookResultError",
    "InvalidDatasetNameError",
    "InvalidNodeError",
    "InvalidPipelineError",
    "JournalError",
    "MissingInputsError",
    "NodeCancelledError",
    "NodeExitError",
    "NodeInputError",
    "NodeOutputError",
    "NodeSignatureError",
    "NodeTimeoutError",
    "NodesFailedError",
    "NotPicklableError",
    "OutputNotUniqueError",
    "PipelineError",
    "PipelineMappingError",
    "PipelineQueryError",
    "ProjectConfigError",
    "RemoteNodeError",
    "RunnerError",
    "RunnerOptionError",
    "UnknownDatasetError",
    "UnknownNamespaceError",
    "UnknownNodeError",
    "VersionAlreadyExistsError",
    "VersionNotFoundError",
    "WorkerLostError",
    "YAMLFileError",
]


class DuctworkError(Exception):
    """Base class of every error raised by ductwork itself."""


class DuctworkDeprecationWarning(DeprecationWarning):
    """A name or behaviour that still works but will go; the message says what to use instead.

    Also importable as ``ductwork.KedroDeprecationWarning``, for code ported from Kedro.
    """


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


class CredentialsNotFoundError(DatasetConfigError, KeyError):
    """A catalog entry refers to credentials by a name that no credentials have.

    Also a ``KeyError``, which is what code written for Kedro catches.
    """

    __str__ = DatasetConfigError.__str__  # a KeyError would show the message in quotes


# --- running --------------------------------------------------------------------------------------


class RunnerError(DuctworkError):
    """A run cannot start or cannot go on for a reason that is not a node's own exception."""


class RunnerOptionError(RunnerError, ValueError, TypeError):
    """A runner option, or a node's setting that a runner must follow, is out of range or of the
    wrong type (``max_workers``, ``mp_context``, ``retry``, ``is_async`` with a generator
    node, ...). Raised before any node runs."""


class HookResultError(RunnerError, TypeError):
    """A hook implementation returned something its specification does not allow."""


class MissingInputsError(RunnerError, ValueError):
    """Free inputs of the pipeline are not in the catalog, so the run cannot start."""


class NodeTimeoutError(RunnerError, TimeoutError):
    """A node ran longer than its time limit and was stopped (or abandoned: see the runner)."""


class NodeCancelledError(RunnerError):
    """A node was told to stop (its run is ending) before it could save its outputs."""


class NodesFailedError(RunnerError):
    """With ``keep_going``: one or more nodes failed; everything that could run has run.

    Attributes:
        failures: Each failed node's name with the exception it raised, in the order the
            failures happened.
    """

    def __init__(self, failures: list[tuple[str, BaseException]]) -> None:
        lines = [f"  {name}: {type(error).__name__}: {error}" for name, error in failures]
        count = len(failures)
        super().__init__(
            f"{count} node{'s' if count != 1 else ''} failed; every node that did not depend "
            "on a failed one has run:\n" + "\n".join(lines)
        )
        self.failures = failures

    def __reduce__(self) -> tuple[type[NodesFailedError], tuple[list[tuple[str, BaseException]]]]:
        return (type(self), (self.failures,))


# --- command line and reports ---------------------------------------------------------------------


class ProjectConfigError(DuctworkError):
    """The command line cannot use what it was pointed at: a pipeline spec that does not import,
    a ``[tool.ductwork]`` table, a catalog or parameters file, or a runner that is not available.
    """


class YAMLFileError(ProjectConfigError, ValueError):
    """A YAML file cannot be loaded: unreadable, not valid YAML, or beyond a size, depth or
    alias-expansion limit (see :mod:`ductwork.io.safe_yaml`).

    The message names the file, and the line, column and key path where that is known; it never
    quotes the file's text, which may hold a secret.

    Attributes:
        path: The file (or what the caller called the input).
        line: 1-based line of the problem, or None.
        column: 1-based column of the problem, or None.
        key: Dotted key path of the place (``db.load_args.columns[0]``), or None.
        what: What the file is for (``"catalog"``, ``"parameters"``), or None.
    """

    def __init__(
        self,
        path: str,
        problem: str,
        *,
        line: int | None = None,
        column: int | None = None,
        key: str | None = None,
        what: str | None = None,
    ) -> None:
        where = path if what is None else f"The {what} file {path}"
        if line is not None:
            where += f", line {line}" + (f", column {column}" if column is not None else "")
        if key:
            where += f", at key '{key}'"
        super().__init__(f"{where}: {problem}")
        self.path = path
        self.problem = problem
        self.line = line
        self.column = column
        self.key = key
        self.what = what

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild_yaml_error,
            (self.path, self.problem, self.line, self.column, self.key, self.what),
        )


def _rebuild_yaml_error(
    path: str,
    problem: str,
    line: int | None,
    column: int | None,
    key: str | None,
    what: str | None,
) -> YAMLFileError:
    return YAMLFileError(path, problem, line=line, column=column, key=key, what=what)


class JournalError(DuctworkError):
    """A run journal is missing, unreadable, or written by a newer ductwork."""


class NotPicklableError(RunnerError, AttributeError):
    """Things a process or Dask runner must send to its workers cannot be pickled.

    Raised before any worker starts, naming every offender at once: node functions, datasets
    the pipeline uses (and the data of in-memory free inputs), hook plugins. Also an
    ``AttributeError``, which is what Kedro raises for the same mistake.

    Attributes:
        offenders: What cannot travel (e.g. ``"node 'train'"``, ``"dataset 'db'"``,
            ``"hook plugin 'timer'"``) mapped to the reasons, each naming the attribute that
            failed.
    """

    def __init__(self, message: str, offenders: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.offenders: dict[str, list[str]] = dict(offenders or {})

    def __reduce__(self) -> tuple[type[NotPicklableError], tuple[str, dict[str, list[str]]]]:
        return (type(self), (str(self), self.offenders))


class DatasetNotPicklableError(NotPicklableError, DatasetError):
    """Datasets of a catalog cannot be sent to another process.

    Raised by ``SharedMemoryDataCatalog.validate_catalog`` with every offender at once, with the
    same reasons and advice as the process runners' :class:`NotPicklableError`; the catalog
    only knows datasets, so ``offenders`` is keyed by dataset name.
    """


class NodeExitError(RunnerError):
    """A node tried to end the process: it raised ``SystemExit`` (``sys.exit``, argparse, a
    click ``main()``) or called ``os._exit`` under ``ductwork run``.

    The node fails like any other (its downstream does not run, the run is reported failed);
    the process never ends with the node's exit code as if the pipeline had finished.

    Attributes:
        code: The exit code the node asked for.
    """

    def __init__(self, message: str, code: object = None) -> None:
        super().__init__(message)
        self.code = code

    def __reduce__(self) -> tuple[type[NodeExitError], tuple[str, object]]:
        return (type(self), (str(self), self.code))

    @classmethod
    def of(cls, exit: SystemExit) -> NodeExitError:
        """The failure standing for ``exit`` raised by a node (chained to it)."""
        error = cls(
            f"the node raised SystemExit({exit.code!r}) (sys.exit, argparse or a click main()) "
            "and was stopped: a node cannot end the run; return or raise an exception instead.",
            exit.code,
        )
        error.__cause__ = exit
        return error


class WorkerLostError(RunnerError):
    """A worker process died (killed by a signal, out of memory, or crashed) during a run.

    Attributes:
        node_name: The node the worker was running, or None if it was idle.
        exitcode: The process's exit code; ``-N`` means it was killed by signal ``N``.
    """

    def __init__(self, message: str, node_name: str | None = None, exitcode: int | None = None):
        super().__init__(message)
        self.node_name = node_name
        self.exitcode = exitcode

    def __reduce__(self) -> tuple[type[WorkerLostError], tuple[str, str | None, int | None]]:
        return (type(self), (str(self), self.node_name, self.exitcode))


class RemoteNodeError(RunnerError):
    """Stands in for a node's exception that could not be sent back from a worker process.

    The message starts with the original exception's type and message; the worker's traceback
    follows.

    Attributes:
        type_name: The original exception's class, as ``module.QualName``.
        remote_traceback: The traceback, formatted in the worker.
    """

    def __init__(self, type_name: str, message: str, remote_traceback: str) -> None:
        super().__init__(
            f"{type_name}: {message}\n\nTraceback in the worker process:\n{remote_traceback}"
        )
        self.type_name = type_name
        self.original_message = message
        self.remote_traceback = remote_traceback

    def __reduce__(self) -> tuple[type[RemoteNodeError], tuple[str, str, str]]:
        return (type(self), (self.type_name, self.original_message, self.remote_traceback))

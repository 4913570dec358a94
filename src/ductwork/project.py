"""Find a project's pipelines: ``pipelines/<name>/pipeline.py`` with a ``create_pipeline()``.

A project's ``pipeline_registry.py`` usually reads::

    from ductwork.pipeline import Pipeline
    from ductwork.project import find_pipelines

    def register_pipelines() -> dict[str, Pipeline]:
        pipelines = find_pipelines()
        pipelines["__default__"] = sum(pipelines.values(), Pipeline([]))
        return pipelines

as Kedro's does. Unlike Kedro's, a pipeline module that fails to import, or a ``pipeline.py``
without a ``create_pipeline()`` returning a ``Pipeline``, is an error by default: a run that
silently leaves out a broken pipeline would report success for less than was asked.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import warnings
from importlib.util import find_spec
from pathlib import Path

from ductwork.exceptions import PipelineError
from ductwork.pipeline import Pipeline

__all__ = ["find_pipelines"]

_logger = logging.getLogger(__name__)


def _caller_package() -> str:
    frame = inspect.currentframe()
    caller = frame.f_back.f_back if frame and frame.f_back else None
    package = caller.f_globals.get("__package__") if caller else None
    if not package:
        raise PipelineError(
            "find_pipelines() was called outside a package: call it from the project's "
            "pipeline_registry.py, or pass package='my_project'."
        )
    return str(package)


def _pipeline_of(module_name: str, raise_errors: bool) -> Pipeline | None:
    def fail(message: str, error: BaseException | None = None) -> None:
        if raise_errors:
            raise PipelineError(message) from error
        warnings.warn(message, stacklevel=4)

    try:
        module = importlib.import_module(module_name)
    except Exception as error:
        fail(f"Importing the pipeline module '{module_name}' failed: {error!r}", error)
        return None
    create = getattr(module, "create_pipeline", None)
    if not callable(create):
        fail(f"The pipeline module '{module_name}' has no create_pipeline() function.")
        return None
    try:
        pipeline = create()
    except Exception as error:
        fail(f"'{module_name}.create_pipeline()' failed: {error!r}", error)
        return None
    if not isinstance(pipeline, Pipeline):
        fail(
            f"'{module_name}.create_pipeline()' returned a {type(pipeline).__name__}, "
            "not a Pipeline."
        )
        return None
    return pipeline


def find_pipelines(raise_errors: bool = True, *, package: str | None = None) -> dict[str, Pipeline]:
    """Every pipeline of the project's ``pipelines/`` folder, by folder name.

    Each folder ``<package>/pipelines/<name>/`` with a ``pipeline.py`` gives the pipeline its
    ``create_pipeline()`` returns, as ``name``. A ``<package>/pipeline.py`` gives
    ``__default__``. Folders starting with ``_`` or ``.`` are skipped.

    Args:
        raise_errors: Raise on a pipeline module that fails (the default); False warns and
            leaves it out, as Kedro does.
        package: The project's package; by default, the package of the module calling this
            (the project's ``pipeline_registry``).

    Raises:
        PipelineError: A pipeline module fails to import, has no ``create_pipeline()``, or
            it fails or returns something that is not a ``Pipeline`` (with ``raise_errors``).
    """
    package = package or _caller_package()
    found: dict[str, Pipeline] = {}
    if find_spec(f"{package}.pipeline") is not None:
        default = _pipeline_of(f"{package}.pipeline", raise_errors)
        if default is not None:
            found["__default__"] = default
    spec = find_spec(f"{package}.pipelines") if find_spec(package) is not None else None
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    for folder in folders:
        for entry in sorted(Path(folder).iterdir()):
            if not entry.is_dir() or entry.name.startswith(("_", ".")):
                continue
            if not (entry / "pipeline.py").is_file():
                _logger.debug("%s has no pipeline.py; it is not a pipeline.", entry)
                continue
            pipeline = _pipeline_of(f"{package}.pipelines.{entry.name}.pipeline", raise_errors)
            if pipeline is not None:
                found[entry.name] = pipeline
    return found

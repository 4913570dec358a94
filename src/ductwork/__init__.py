"""ductwork: run pipelines of Python functions on one core, many cores, or a cluster."""

__version__ = "0.1.0"

__all__ = ["__version__"]

"""Project configuration: environments, interpolation, globals, runtime parameters, credentials.

:class:`ConfigLoader` reads ``conf/base`` then ``conf/<env>`` and resolves ``${...}`` with
OmegaConf; :func:`parse_runtime_params` reads ``--params key=value``. The rules are in
:mod:`ductwork.config.loader`.
"""

from ductwork.config._files import read_config_file
from ductwork.config.loader import ConfigLoader, ConfigSource
from ductwork.config.runtime_params import parse_runtime_params

__all__ = ["ConfigLoader", "ConfigSource", "parse_runtime_params", "read_config_file"]

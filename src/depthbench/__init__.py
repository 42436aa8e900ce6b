"""depthbench: how many more parameters a shallow network needs than a deep one.

The data flow is one-directional: ``conf/`` (Hydra) -> :mod:`depthbench.tasks` ->
:mod:`depthbench.models` -> :mod:`depthbench.trainer` -> :mod:`depthbench.results` ->
:mod:`depthbench.report`.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("depthbench")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

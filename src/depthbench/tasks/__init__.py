"""Generative task families. ``make(family, **params)`` builds a validated instance.

Every module of this package is imported here, and each family registers itself by
subclassing :class:`Task` (:data:`FAMILIES`); a family defined elsewhere registers the
same way once its module is imported (``plugins`` in the run config).
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from depthbench.errors import ConfigError
from depthbench.tasks.base import FAMILIES, Task
from depthbench.validate import reject_unknown

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["FAMILIES", "Task", "make"]


def make(family: str, **params: Any) -> Task:
    """Build the task ``family`` with ``params``; unknown names raise :class:`ConfigError`."""
    if family not in FAMILIES:
        raise ConfigError("task", f"unknown family {family!r}; allowed: {', '.join(FAMILIES)}")
    cls = FAMILIES[family]
    reject_unknown("task", set(cls.param_names()), params)
    return cls(**params)

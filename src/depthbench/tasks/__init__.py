"""Generative task families. ``make(family, **params)`` builds a validated instance."""

from __future__ import annotations

import inspect
from typing import Any

from depthbench.errors import ConfigError
from depthbench.tasks.base import Task
from depthbench.tasks.broadcast import Broadcast
from depthbench.tasks.monomial import Monomial, Power, Product
from depthbench.tasks.polynomial import Polynomial
from depthbench.tasks.radial import Radial
from depthbench.tasks.rhm import RHM
from depthbench.tasks.sawtooth import Sawtooth
from depthbench.tasks.teacher import Teacher
from depthbench.tasks.tree import Tree
from depthbench.validate import reject_unknown

FAMILIES: dict[str, type[Task]] = {
    cls.family: cls
    for cls in (Product, Monomial, Power, Polynomial, Tree, Sawtooth, Radial, RHM, Broadcast, Teacher)
}

__all__ = ["FAMILIES", "Task", "make"]


def make(family: str, **params: Any) -> Task:
    """Build the task ``family`` with ``params``; unknown names raise :class:`ConfigError`."""
    if family not in FAMILIES:
        raise ConfigError("task", f"unknown family {family!r}; allowed: {', '.join(FAMILIES)}")
    cls = FAMILIES[family]
    reject_unknown("task", set(inspect.signature(cls.__init__).parameters) - {"self"}, params)
    return cls(**params)

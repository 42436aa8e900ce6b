"""Registries filled by subclassing: a task family or model family is declared by
defining its class (:meth:`depthbench.tasks.base.Task.__init_subclass__`,
:meth:`depthbench.models.base.BatchedModel.__init_subclass__`)."""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T")


def register(registry: dict[str, type[T]], kind: str, name: str | None, cls: type[T]) -> None:
    """Enter ``cls`` under ``name`` (a class without a ``name`` of its own, such as a
    shared base, is not entered); the same name for another class is a ``TypeError``."""
    if name is None:
        return
    if name in registry and registry[name] is not cls:
        raise TypeError(f"{kind} {name!r} is defined twice: {registry[name]} and {cls}")
    registry[name] = cls

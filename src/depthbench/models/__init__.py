"""Model families: each is one subclass of :class:`BatchedModel` (registered in
:data:`MODELS`) taking ``(input_shape, output_dim, depth, width, members, **params)``
with ``input_shape = (channels, positions)``; :func:`fit` solves the width from a
budget. Every module of this package is imported here; a family defined elsewhere
registers the same way once its module is imported (``plugins`` in the run config).
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
from typing import Any

from depthbench.errors import ConfigError
from depthbench.models.base import MODELS, BatchedModel
from depthbench.models.budget import Fit, solve_width
from depthbench.models.mlp import ACTIVATIONS, MLP
from depthbench.models.tree import TreeNet
from depthbench.validate import reject_unknown

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

__all__ = [
    "ACTIVATIONS",
    "MLP",
    "MODELS",
    "BatchedModel",
    "Fit",
    "TreeNet",
    "build",
    "check_params",
    "fit",
    "model_class",
]


def model_class(name: str) -> type[BatchedModel]:
    if name not in MODELS:
        raise ConfigError("model", f"unknown model {name!r}; allowed: {', '.join(MODELS)}")
    return MODELS[name]


def check_params(name: str, params: dict[str, Any]) -> None:
    """Validate ``model.*`` hyper-parameters of model ``name``."""
    check = model_class(name).check_params
    reject_unknown("model", set(inspect.signature(check).parameters), params)
    check(**params)


def fit(
    name: str, input_shape: tuple[int, int], output_dim: int, depth: int, budget: int, **params: Any
) -> Fit:
    """Solve the width of model ``name`` at ``depth`` for ``budget`` parameters (and
    count the hidden neurons and forward FLOPs at that width)."""
    cls = model_class(name)
    reason = cls.check_shape(input_shape, depth, **params)
    if reason:
        return Fit(None, None, reason)
    found = solve_width(
        budget, lambda w: cls.count_params(input_shape, output_dim, depth, w, **params)
    )
    if not found.feasible:
        return found
    assert found.width is not None
    return dataclasses.replace(
        found,
        n_hidden=cls.count_hidden(input_shape, depth, found.width, **params),
        forward_flops=cls.count_flops(input_shape, output_dim, depth, found.width, **params),
    )


def build(name: str, **kwargs: Any) -> BatchedModel:
    """Instantiate model ``name`` (uninitialised; call ``reset_parameters``)."""
    return model_class(name)(**kwargs)

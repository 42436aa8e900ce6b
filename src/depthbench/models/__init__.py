"""Model families. Each takes ``(input_dim, output_dim, depth, width, members, **params)``
and has an exact ``count_params``; :func:`fit` solves the width from a budget."""

from __future__ import annotations

import inspect
from typing import Any

from depthbench.errors import ConfigError, reject_unknown
from depthbench.models.budget import Fit, solve_width
from depthbench.models.mlp import ACTIVATIONS, MLP

MODELS: dict[str, type[MLP]] = {MLP.name: MLP}

__all__ = ["ACTIVATIONS", "MODELS", "Fit", "build", "check_params", "fit", "model_class"]


def model_class(name: str) -> type[MLP]:
    if name not in MODELS:
        raise ConfigError("model", f"unknown model {name!r}; allowed: {', '.join(MODELS)}")
    return MODELS[name]


def check_params(name: str, params: dict[str, Any]) -> None:
    """Validate ``model.*`` hyper-parameters of model ``name``."""
    check = model_class(name).check_params
    reject_unknown("model", set(inspect.signature(check).parameters), params)
    check(**params)


def fit(name: str, input_dim: int, output_dim: int, depth: int, budget: int) -> Fit:
    """Solve the width of model ``name`` at ``depth`` for ``budget`` parameters."""
    cls = model_class(name)
    return solve_width(budget, lambda w: cls.count_params(input_dim, output_dim, depth, w))


def build(name: str, **kwargs: Any) -> MLP:
    """Instantiate model ``name`` (uninitialised; call ``reset_parameters``)."""
    return model_class(name)(**kwargs)

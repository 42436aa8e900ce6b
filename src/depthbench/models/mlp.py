"""``mlp``: dense networks of uniform width, batched over members."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from depthbench.errors import ConfigError

ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "relu": F.relu,
    "tanh": torch.tanh,
    "gelu": F.gelu,
    "silu": F.silu,
    "softplus": F.softplus,
    "sigmoid": torch.sigmoid,
}


def check_activation(name: str) -> str:
    if name not in ACTIVATIONS:
        raise ConfigError(
            "model.activation", f"unknown activation {name!r}; allowed: {', '.join(ACTIVATIONS)}"
        )
    return name


class MLP(nn.Module):
    """``members`` independent dense networks of the same shape, trained as one.

    Each member maps ``input_dim -> width -> ... -> width -> output_dim`` with
    ``depth`` hidden layers and ``activation`` after each of them.

    Shapes:
        weights[i]: ``[members, fan_in, fan_out]``
        biases[i]:  ``[members, 1, fan_out]``
        forward:    ``[members, batch, input_dim]`` (one batch per member) or
                    ``[batch, input_dim]`` (shared by all members)
                    -> ``[members, batch, output_dim]``
    """

    name = "mlp"

    def __init__(
        self,
        input_dim: int,
        output_dim: int,
        depth: int,
        width: int,
        members: int,
        activation: str = "silu",
    ) -> None:
        super().__init__()
        for key, value in (("input_dim", input_dim), ("output_dim", output_dim),
                           ("depth", depth), ("width", width), ("members", members)):
            if value < 1:
                raise ValueError(f"{key} must be >= 1, got {value}")
        self.depth, self.width, self.members = depth, width, members
        self.activation = ACTIVATIONS[check_activation(activation)]
        dims = [input_dim] + [width] * depth + [output_dim]
        self.weights = nn.ParameterList(
            nn.Parameter(torch.empty(members, a, b)) for a, b in zip(dims[:-1], dims[1:])
        )
        self.biases = nn.ParameterList(
            nn.Parameter(torch.empty(members, 1, b)) for b in dims[1:]
        )

    @staticmethod
    def check_params(activation: str = "silu") -> None:
        """Validate the model's hyper-parameters (``model.*``) before any work."""
        check_activation(activation)

    @staticmethod
    def count_params(input_dim: int, output_dim: int, depth: int, width: int) -> int:
        """Parameters of one member (SCIENCE.md, "budget"):
        ``(n+1) w + (d-1)(w+1) w + (w+1) o``."""
        n, o, d, w = input_dim, output_dim, depth, width
        return (n + 1) * w + (d - 1) * (w + 1) * w + (w + 1) * o

    @property
    def n_hidden(self) -> int:
        """Hidden neurons of one member: ``depth * width``."""
        return self.depth * self.width

    @torch.no_grad()
    def reset_parameters(self, seeds: Sequence[int]) -> None:
        """Initialise member ``k`` from its own generator seeded with ``seeds[k]``.

        The distribution is ``torch.nn.Linear``'s default, U(-1/sqrt(fan_in),
        1/sqrt(fan_in)) for weights and biases, so a member equals an ``nn.Linear``
        stack initialised the same way, and does not depend on its group.
        """
        if len(seeds) != self.members:
            raise ValueError(f"need {self.members} seeds, got {len(seeds)}")
        for k, seed in enumerate(seeds):
            g = torch.Generator().manual_seed(seed)
            for w, b in zip(self.weights, self.biases):
                bound = 1.0 / math.sqrt(w.shape[1])
                for p in (w, b):
                    values = torch.rand(p.shape[1:], generator=g) * (2 * bound) - bound
                    p[k].copy_(values)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            h = torch.baddbmm(b, h, w) if h.dim() == 3 else torch.matmul(h, w) + b
            if i < last:
                h = self.activation(h)
        return h

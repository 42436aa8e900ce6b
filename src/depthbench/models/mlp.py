"""``mlp``: dense networks of uniform width, batched over members."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from depthbench.models.base import BatchedModel
from depthbench.validate import check_bool, check_choice

ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "relu": F.relu,
    "tanh": torch.tanh,
    "gelu": F.gelu,
    "silu": F.silu,
    "softplus": F.softplus,
    "sigmoid": torch.sigmoid,
}


def check_activation(name: str) -> str:
    return check_choice("model.activation", name, ACTIVATIONS)


class MLP(BatchedModel):
    """``members`` independent dense networks of the same shape, trained as one.

    Each member maps ``input_dim -> width -> ... -> width -> output_dim`` with
    ``depth`` hidden layers and ``activation`` after each of them. With
    ``residual=True`` every hidden layer after the first adds its input,
    ``h <- h + act(h W + b)``, so optimisation trouble in deep narrow nets can be
    told apart from expressivity; the parameter count does not change.

    Shapes:
        weights[i]: ``[members, fan_in, fan_out]``
        biases[i]:  ``[members, 1, fan_out]``
        forward:    ``[members, batch, input_dim]`` or ``[batch, input_dim]``
                    -> ``[members, batch, output_dim]``
    """

    name = "mlp"
    dense_input = True

    def __init__(
        self,
        input_shape: tuple[int, int],
        output_dim: int,
        depth: int,
        width: int,
        members: int,
        activation: str = "silu",
        residual: bool = False,
    ) -> None:
        super().__init__(
            input_shape, output_dim, depth, width, members, activation=activation, residual=residual
        )
        self.activation = ACTIVATIONS[activation]
        self.residual = residual
        dims = [self.input_dim] + [width] * depth + [output_dim]
        self.weights = nn.ParameterList(
            nn.Parameter(torch.empty(members, a, b)) for a, b in zip(dims[:-1], dims[1:])
        )
        self.biases = nn.ParameterList(nn.Parameter(torch.empty(members, 1, b)) for b in dims[1:])

    @staticmethod
    def check_params(activation: str = "silu", residual: bool = False) -> None:
        """``model.activation`` (a key of :data:`ACTIVATIONS`), ``model.residual``."""
        check_activation(activation)
        check_bool("model.residual", residual)

    @staticmethod
    def count_params(
        input_shape: tuple[int, int], output_dim: int, depth: int, width: int, **params: object
    ) -> int:
        """Parameters of one member (docs/science.md, "Budget"):
        ``(n+1) w + (d-1)(w+1) w + (w+1) o`` with ``n = prod(input_shape)``."""
        n, o, d, w = input_shape[0] * input_shape[1], output_dim, depth, width
        return (n + 1) * w + (d - 1) * (w + 1) * w + (w + 1) * o

    @staticmethod
    def count_hidden(input_shape: tuple[int, int], depth: int, width: int, **params: object) -> int:
        """Hidden neurons of one member: ``depth * width``."""
        return depth * width

    def layers(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        return list(zip(self.weights, self.biases))

    def batched_forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        hidden = zip(self.weights[:-1], self.biases[:-1])
        for i, (w, b) in enumerate(hidden):
            z = affine(h, w, b)
            h = h + self.activation(z) if self.residual and i > 0 else self.activation(z)
        return affine(h, self.weights[-1], self.biases[-1])


def affine(h: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``h @ w + b`` per member: ``h`` ``[K, B, i]`` or shared ``[B, i]``, ``w`` ``[K, i, o]``,
    ``b`` ``[K, 1, o]`` -> ``[K, B, o]``."""
    return torch.baddbmm(b, h, w) if h.dim() == 3 else torch.matmul(h, w) + b

"""``tree``: a locally connected network shaped like an s-ary hierarchy.

Like the deep CNN used on the Random Hierarchy Model (Cagnetta et al. 2024): filter
size = stride = s, one block per level, then a linear read-out; L levels reduce
s^L positions to one. With ``pool=True`` the net may stop after any ``depth <= L``
levels and average its channels over the positions left, so the depth comparison
holds locality and weight sharing fixed: depth 1 is a one-layer CNN (or locally
connected layer) of filter s with global average pooling.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from depthbench.models.base import BatchedModel
from depthbench.models.mlp import ACTIVATIONS, affine, check_activation
from depthbench.validate import check_bool, check_int


def levels(positions: int, s: int) -> int | None:
    """L with s^L = positions, or None when positions is not a power of s."""
    L = round(math.log(positions, s))
    return L if s**L == positions else None


def _filters(
    input_shape: tuple[int, int], depth: int, width: int, s: int, per_position: bool
) -> int:
    """``sum_l n_l (s C_{l-1} + 1) w`` over the levels: the filter weights and biases,
    ``n_l = P_l`` (one filter per position, or a filter's uses) or 1 (one shared filter)."""
    channels, positions = input_shape
    total = 0
    for level in range(1, depth + 1):
        total += (positions // s**level if per_position else 1) * (s * channels + 1) * width
        channels = width
    return total


class TreeNet(BatchedModel):
    """``members`` tree-shaped networks over inputs laid out as ``[C, P]`` (channels x
    positions, flattened channel-major), ``P = s^depth``.

    Level l maps each patch of ``s`` consecutive positions x ``C_{l-1}`` channels to
    ``width`` channels at one position: ``P_l = P / s^l`` positions remain. With
    ``shared=True`` a level applies one filter at every position (a CNN); otherwise
    each position has its own (locally connected). With ``pool=True``, ``depth`` may
    be below L: the ``P_depth`` positions left are averaged before the read-out.

    Shapes:
        weights[l]: ``[members, P_l or 1, s * C_{l-1}, width]``; read-out ``[members, width, o]``
        biases[l]:  ``[members, P_l or 1, 1, width]``;           read-out ``[members, 1, o]``
        pooled:     ``[members, batch, P_depth, width]`` -> ``[members, batch, width]``
        forward:    ``[members, batch, C * P]`` or ``[batch, C * P]`` -> ``[members, batch, o]``
    """

    name = "tree"

    def __init__(
        self,
        input_shape: tuple[int, int],
        output_dim: int,
        depth: int,
        width: int,
        members: int,
        activation: str = "silu",
        s: int = 2,
        shared: bool = False,
        pool: bool = False,
    ) -> None:
        super().__init__(
            input_shape,
            output_dim,
            depth,
            width,
            members,
            activation=activation,
            s=s,
            shared=shared,
            pool=pool,
        )
        self.channels, self.positions = input_shape
        self.s = s
        self.activation = ACTIVATIONS[activation]
        self.shared, self.pool = shared, pool
        weights, biases, channels = [], [], self.channels
        for level in range(1, depth + 1):
            places = 1 if shared else self.positions // s**level
            weights.append(nn.Parameter(torch.empty(members, places, s * channels, width)))
            biases.append(nn.Parameter(torch.empty(members, places, 1, width)))
            channels = width
        self.weights = nn.ParameterList(weights)
        self.biases = nn.ParameterList(biases)
        self.readout = nn.Parameter(torch.empty(members, width, output_dim))
        self.readout_bias = nn.Parameter(torch.empty(members, 1, output_dim))

    @staticmethod
    def check_params(
        activation: str = "silu", s: int = 2, shared: bool = False, pool: bool = False
    ) -> None:
        """``model.activation``, ``model.s`` (the patch size, >= 2), ``model.shared``,
        ``model.pool``."""
        check_activation(activation)
        check_int("model.s", s, 2)
        check_bool("model.shared", shared)
        check_bool("model.pool", pool)

    @staticmethod
    def check_shape(
        input_shape: tuple[int, int], depth: int, s: int = 2, pool: bool = False, **params: object
    ) -> str | None:
        """Why ``depth`` does not fit an input of ``input_shape``, or None."""
        L = levels(input_shape[1], s)
        if L is None:
            return (
                f"the tree model needs s^L positions; the input has {input_shape[1]}, "
                f"not a power of s={s}"
            )
        if pool and depth > L:
            return (
                f"the pooled tree model has at most one level per input level: "
                f"{input_shape[1]} positions = {s}^{L} allow depth 1 to {L}"
            )
        if depth != L and not pool:
            return (
                f"the tree model's depth is fixed by its input: {input_shape[1]} "
                f"positions = {s}^{L} need depth {L} (model.pool=true allows fewer)"
            )
        return None

    @staticmethod
    def count_params(
        input_shape: tuple[int, int],
        output_dim: int,
        depth: int,
        width: int,
        s: int = 2,
        shared: bool = False,
        **params: object,
    ) -> int:
        """``sum_l P_l (s C_{l-1} + 1) w + (w + 1) o``, ``P_l = 1`` when shared."""
        return _filters(input_shape, depth, width, s, not shared) + (width + 1) * output_dim

    @staticmethod
    def count_hidden(
        input_shape: tuple[int, int], depth: int, width: int, s: int = 2, **params: object
    ) -> int:
        """``sum_l P_l w``: a neuron per channel and position, shared or not."""
        return sum(input_shape[1] // s**level for level in range(1, depth + 1)) * width

    @classmethod
    def count_flops(
        cls,
        input_shape: tuple[int, int],
        output_dim: int,
        depth: int,
        width: int,
        s: int = 2,
        shared: bool = False,
        pool: bool = False,
        **params: object,
    ) -> int:
        """``2 sum_l P_l (s C_{l-1} + 1) w + 2 (w + 1) o``, plus ``P_depth w`` additions
        when pooled: a shared filter is applied at all ``P_l`` positions of its level."""
        pooled = (input_shape[1] // s**depth) * width if pool else 0
        applied = _filters(input_shape, depth, width, s, True) + (width + 1) * output_dim
        return 2 * applied + pooled

    def layers(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        return [*zip(self.weights, self.biases), (self.readout, self.readout_bias)]

    def batched_forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 2:
            x = x.expand(self.members, *x.shape)
        K, B = x.shape[:2]
        h = x.view(K, B, self.channels, self.positions).transpose(2, 3)  # [K, B, P, C]
        for w, b in zip(self.weights, self.biases):
            patches = h.reshape(K, B, h.shape[2] // self.s, -1)  # [K, B, P_l, s C]
            if self.shared:  # one [K, B P_l, sC] x [K, sC, w] product, not one per sample
                fan_in, fan_out = w.shape[-2:]
                flat = torch.bmm(patches.reshape(K, -1, fan_in), w.view(K, fan_in, fan_out))
                z = flat.view(K, B, -1, fan_out) + b
            else:
                z = torch.einsum("kbpi,kpio->kbpo", patches, w) + b.squeeze(2).unsqueeze(1)
            h = self.activation(z)
        return affine(h.mean(dim=2) if self.pool else h[:, :, 0], self.readout, self.readout_bias)

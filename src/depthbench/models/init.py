"""Per-member initialisation shared by the model families."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import torch

from depthbench.seeding import generator


@torch.no_grad()
def uniform_init_(
    layers: Iterable[tuple[torch.Tensor, torch.Tensor]], seeds: Sequence[int]
) -> None:
    """Initialise member ``k`` of every layer from its own generator (``seeds[k]``).

    ``layers`` holds (weight ``[members, ..., fan_in, fan_out]``, bias
    ``[members, ..., 1, fan_out]``) pairs; both draw from U(-1/sqrt(fan_in),
    1/sqrt(fan_in)), ``torch.nn.Linear``'s default, weight then bias, layer by layer.
    A member therefore does not depend on the group it trains in.
    """
    layers = list(layers)
    for k, seed in enumerate(seeds):
        g = generator(seed)
        for w, b in layers:
            bound = 1.0 / math.sqrt(w.shape[-2])
            for p in (w, b):
                p[k].copy_(torch.rand(p.shape[1:], generator=g) * (2 * bound) - bound)


@torch.no_grad()
def kinks_init_(weight: torch.Tensor, bias: torch.Tensor, anchors: torch.Tensor) -> None:
    """Move every first-layer unit's kink onto an input the task draws (``train.init=kinks``).

    Unit ``j`` of member ``k`` keeps its weights and gets the bias
    ``b[k, 0, j] = -anchors[k, j] . weight[k, :, j]``, so its pre-activation is zero at
    the input ``anchors[k, j]``: a ReLU's kink (the hyperplane where the unit switches
    on) passes through the data instead of, as often under the default
    U(-1/sqrt(n), 1/sqrt(n)) bias on inputs in [0, 1], outside it. With one input
    the kink sits at ``anchors[k, j]`` itself.

    Shapes:
        weight:  ``[members, input_dim, width]``
        bias:    ``[members, 1, width]`` (overwritten)
        anchors: ``[members, width, input_dim]``
    """
    if weight.dim() != 3 or anchors.shape != (weight.shape[0], weight.shape[2], weight.shape[1]):
        raise ValueError(
            f"need weight [members, input_dim, width] and anchors [members, width, input_dim], "
            f"got {list(weight.shape)} and {list(anchors.shape)}"
        )
    bias.copy_(-(anchors * weight.transpose(1, 2)).sum(-1, keepdim=True).transpose(1, 2))

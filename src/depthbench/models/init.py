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

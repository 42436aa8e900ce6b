"""Adam with one learning rate per member of a batched model."""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch


class BatchedAdam:
    """Adam (Kingma & Ba 2015, Algorithm 1) where ``lr[k]`` scales member ``k``.

    Every parameter has the member dimension first, ``[members, ...]``; ``lr`` is
    ``[members]``. The update is the one ``torch.optim.Adam`` applies (bias
    corrections folded into the step size and the denominator), so a one-member
    group follows ``torch.optim.Adam`` step for step.
    """

    def __init__(
        self,
        params: Iterable[torch.nn.Parameter],
        lr: torch.Tensor,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        self.params = list(params)
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.t = 0
        self.exp_avg = [torch.zeros_like(p) for p in self.params]
        self.exp_avg_sq = [torch.zeros_like(p) for p in self.params]
        # lr broadcast against each parameter: [members, 1, ..., 1]
        self.lr = [lr.to(p).view(-1, *([1] * (p.dim() - 1))) for p in self.params]

    @torch.no_grad()
    def step(self) -> None:
        self.t += 1
        bias1 = 1 - self.beta1**self.t
        bias2_sqrt = math.sqrt(1 - self.beta2**self.t)
        for p, m, v, lr in zip(self.params, self.exp_avg, self.exp_avg_sq, self.lr):
            g = p.grad
            m.lerp_(g, 1 - self.beta1)
            v.mul_(self.beta2).addcmul_(g, g, value=1 - self.beta2)
            denom = (v.sqrt() / bias2_sqrt).add_(self.eps)
            p.addcdiv_(m * lr, denom, value=-1 / bias1)

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

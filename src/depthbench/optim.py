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
        """One Adam step for every parameter, with multi-tensor (``_foreach``) kernels."""
        self.t += 1
        bias1 = 1 - self.beta1**self.t
        bias2_sqrt = math.sqrt(1 - self.beta2**self.t)
        grads = [p.grad for p in self.params]
        torch._foreach_lerp_(self.exp_avg, grads, 1 - self.beta1)
        torch._foreach_mul_(self.exp_avg_sq, self.beta2)
        torch._foreach_addcmul_(self.exp_avg_sq, grads, grads, value=1 - self.beta2)
        denom = torch._foreach_sqrt(self.exp_avg_sq)
        torch._foreach_div_(denom, bias2_sqrt)
        torch._foreach_add_(denom, self.eps)
        steps = torch._foreach_mul(self.exp_avg, self.lr)  # per-member lr, broadcast
        torch._foreach_addcdiv_(self.params, steps, denom, value=-1 / bias1)

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

"""Adam with one learning rate per member of a batched model."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import cast

import torch


class BatchedAdam:
    """Adam (Kingma & Ba 2015, Algorithm 1) where ``lr[k]`` scales member ``k``.

    Every parameter has the member dimension first, ``[members, ...]``; ``lr`` is
    ``[members]``, the peak rates. :attr:`scale`, a 0-d tensor on the parameters'
    device (1 at first), multiplies every rate: a schedule sets it in place before a
    step, so a captured CUDA graph reads the new value without a host round trip. The
    update is the one ``torch.optim.Adam`` applies (bias
    corrections folded into the step size and the denominator), so a one-member
    group follows ``torch.optim.Adam`` step for step.

    ``capturable=True`` keeps the step count on the parameters' device and computes
    the bias corrections there, so that a step can be captured in a CUDA graph and
    replayed (as ``torch.optim.Adam(capturable=True)`` does); the arithmetic is the
    same up to float32 rounding of the bias corrections.
    """

    def __init__(
        self,
        params: Iterable[torch.nn.Parameter],
        lr: torch.Tensor,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        capturable: bool = False,
    ) -> None:
        self.params: list[torch.Tensor] = list(params)
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.t = 0
        device = self.params[0].device
        self.t_device = torch.zeros((), device=device) if capturable else None
        self.exp_avg = [torch.zeros_like(p) for p in self.params]
        self.exp_avg_sq = [torch.zeros_like(p) for p in self.params]
        # lr broadcast against each parameter: [members, 1, ..., 1]
        self.lr = [lr.to(p).view(-1, *([1] * (p.dim() - 1))) for p in self.params]
        self.scale = torch.ones((), device=device)

    @torch.no_grad()
    def step(self) -> None:
        """One Adam step for every parameter, with multi-tensor (``_foreach``) kernels."""
        grads = cast("list[torch.Tensor]", [p.grad for p in self.params])  # set by backward
        torch._foreach_lerp_(self.exp_avg, grads, 1 - self.beta1)
        torch._foreach_mul_(self.exp_avg_sq, self.beta2)
        torch._foreach_addcmul_(self.exp_avg_sq, grads, grads, value=1 - self.beta2)
        denom = torch._foreach_sqrt(self.exp_avg_sq)
        steps = torch._foreach_mul(self.exp_avg, self.lr)  # per-member lr, broadcast
        torch._foreach_mul_(steps, self.scale)  # the schedule's factor (exact for 1)
        if self.t_device is None:
            self.t += 1
            torch._foreach_div_(denom, math.sqrt(1 - self.beta2**self.t))
            torch._foreach_add_(denom, self.eps)
            torch._foreach_addcdiv_(self.params, steps, denom, value=-1 / (1 - self.beta1**self.t))
        else:  # the same update with 0-d device tensors: no host value enters the step
            t = self.t_device.add_(1)
            torch._foreach_div_(denom, (1 - torch.pow(self.beta2, t)).sqrt())
            torch._foreach_add_(denom, self.eps)
            torch._foreach_div_(steps, 1 - torch.pow(self.beta1, t))
            torch._foreach_addcdiv_(self.params, steps, denom, value=-1)

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

"""Optimisers with one learning rate per member of a batched model: Adam, and SGD with
momentum and weight decay (the RHM authors' protocol)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

import torch

from depthbench.errors import ConfigError

OPTIMIZERS = ("adam", "sgd")


@dataclass(frozen=True)
class Optimizer:
    """``train.optimizer`` and its settings: ``momentum`` and ``weight_decay`` (SGD;
    Adam ignores them and refuses a weight decay), and ``stop_loss``: a member stops
    updating once its mean minibatch loss over a block of steps falls below it
    (``None``: train every step)."""

    name: str = "adam"
    momentum: float = 0.0
    weight_decay: float = 0.0
    stop_loss: float | None = None

    def __post_init__(self) -> None:
        if self.name not in OPTIMIZERS:
            raise ConfigError("train.optimizer", f"must be one of {', '.join(OPTIMIZERS)}")
        if not 0 <= self.momentum < 1:
            raise ConfigError("train.momentum", f"must be in [0, 1), got {self.momentum}")
        if self.weight_decay < 0 or (self.name == "adam" and self.weight_decay):
            raise ConfigError(
                "train.weight_decay",
                f"must be >= 0, and 0 with adam, got {self.weight_decay} with {self.name}",
            )
        if self.stop_loss is not None and not self.stop_loss > 0:
            raise ConfigError("train.stop_loss", f"must be positive or null, got {self.stop_loss}")

    @property
    def identity(self) -> dict[str, object]:
        """What changes a trained model's numbers; empty for plain Adam, so that its
        runs keep the ids they always had."""
        if self == Optimizer(momentum=self.momentum):
            return {}
        return {"optimizer": [self.name, self.momentum, self.weight_decay, self.stop_loss]}

    def build(
        self, params: Iterable[torch.nn.Parameter], lr: torch.Tensor, capturable: bool
    ) -> BatchedAdam | BatchedSGD:
        """The batched optimiser over ``params`` with peak rates ``lr`` ``[members]``."""
        if self.name == "sgd":
            return BatchedSGD(params, lr, self.momentum, self.weight_decay)
        return BatchedAdam(params, lr, capturable=capturable)


class _PerMember:
    """The state both batched optimisers share: the parameters (member dimension
    first, ``[members, ...]``), the per-member rates ``lr`` (``[members]``) viewed to
    broadcast against each parameter, :attr:`scale` (a 0-d device tensor a schedule
    sets in place) and :attr:`gate` (``[members]``, 1 or 0: a member with 0 no longer
    moves, a stopped member)."""

    def __init__(self, params: Iterable[torch.nn.Parameter], lr: torch.Tensor) -> None:
        self.params: list[torch.Tensor] = list(params)
        device = self.params[0].device
        self.lr = [lr.to(p).view(-1, *([1] * (p.dim() - 1))) for p in self.params]
        self.scale = torch.ones((), device=device)
        self.gate = torch.ones(len(lr), device=device)
        self._gates = [self.gate.view(-1, *([1] * (p.dim() - 1))) for p in self.params]

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None


class BatchedAdam(_PerMember):
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
        super().__init__(params, lr)
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.t = 0
        device = self.params[0].device
        self.t_device = torch.zeros((), device=device) if capturable else None
        self.exp_avg = [torch.zeros_like(p) for p in self.params]
        self.exp_avg_sq = [torch.zeros_like(p) for p in self.params]

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
        torch._foreach_mul_(steps, self._gates)  # stopped members (exact for 1)
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


class BatchedSGD(_PerMember):
    """SGD with momentum and weight decay, as ``torch.optim.SGD`` (dampening 0, not
    Nesterov): ``g <- g + wd p``, ``b <- momentum b + g`` (b starts at 0, so ``b = g``
    at the first step, as in torch), ``p <- p - lr[k] scale b``, where ``lr[k]``
    scales member ``k``; the same :attr:`scale` and :attr:`gate` as
    :class:`BatchedAdam`. A one-member group follows ``torch.optim.SGD`` step for step.
    Every operation is on device tensors, so a step can be captured in a CUDA graph.
    """

    def __init__(
        self,
        params: Iterable[torch.nn.Parameter],
        lr: torch.Tensor,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        self.momentum, self.weight_decay = momentum, weight_decay
        self.buffers = [torch.zeros_like(p) for p in self.params]  # b = g at the first step

    @torch.no_grad()
    def step(self) -> None:
        """One SGD step for every parameter, with multi-tensor (``_foreach``) kernels."""
        grads = cast("list[torch.Tensor]", [p.grad for p in self.params])  # set by backward
        if self.weight_decay:
            grads = list(torch._foreach_add(grads, self.params, alpha=self.weight_decay))
        torch._foreach_mul_(self.buffers, self.momentum)
        torch._foreach_add_(self.buffers, grads)
        steps = torch._foreach_mul(self.buffers, self.lr)
        torch._foreach_mul_(steps, self.scale)
        torch._foreach_mul_(steps, self._gates)
        torch._foreach_sub_(self.params, steps)

"""``broadcast``: broadcasting on a tree (Mossel 2016, arXiv 1612.09057)."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import torch

from depthbench.errors import ConfigError
from depthbench.seeding import derive_seed, generator
from depthbench.tasks.base import Task
from depthbench.validate import check_float, check_int

BAYES_SAMPLES = 2**22  # leaves generated to estimate the Bayes accuracy of a tree


class Broadcast(Task):
    """A root label in {-1, +1}; each node has ``s`` children that copy it, each
    flipped with probability ``eps``; the ``s^L`` leaves (+-1) are the input and the
    root is the class (0 for -1, 1 for +1).

    The Bayes posterior of the root is computed per sample by belief propagation up
    the tree (:meth:`root_llr`). Theory: ``bayes_accuracy``, exact for a chain
    (s = 1), ``(1 + (1 - 2 eps)^L) / 2``, otherwise estimated on a fixed large sample;
    reconstruction at large L is possible iff ``s (1 - 2 eps)^2 > 1`` (Kesten-Stigum).
    """

    family = "broadcast"
    eps_scale = "bayes"  # eps is read against the Bayes error, which every row stores

    def __init__(self, s: int = 2, L: int = 6, eps: float = 0.1) -> None:
        self.s = check_int("task.s", s, 1, 16)
        self.L = check_int("task.L", L, 1, 64)
        self.eps = check_float("task.eps", eps)
        if not 0 < self.eps < 0.5:
            raise ConfigError("task.eps", f"must be in (0, 0.5), got {self.eps}")
        if self.s**self.L > 4096:
            raise ConfigError("task.L", f"s^L = {self.s**self.L} leaves; at most 4096 allowed")
        self.kind, self.n_classes = "classification", 2
        self.input_dim = self.s**self.L

    def theory(self) -> dict[str, float]:
        """The Bayes accuracy and the Kesten-Stigum quantity ``s (1 - 2 eps)^2``."""
        return {
            "bayes_accuracy": self.bayes_accuracy,
            "kesten_stigum": self.s * (1 - 2 * self.eps) ** 2,
        }

    @functools.cached_property
    def bayes_accuracy(self) -> float:
        """Exact for a chain, else estimated on a fixed sample of about 2^22 leaves."""
        if self.s == 1:
            return (1 + (1 - 2 * self.eps) ** self.L) / 2
        n = max(1024, BAYES_SAMPLES // self.input_dim)
        x, _ = self.sample(n, derive_seed("broadcast-bayes", self.s, self.L, self.eps))
        p = torch.sigmoid(self.root_llr(x).double())
        return torch.maximum(p, 1 - p).mean().item()  # E[P(correct | x)]

    def sample(
        self, num_samples: int, seed: int, device: torch.device | str = "cpu"
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``x`` ``[num_samples, s^L]`` in {-1, +1}; ``y`` int64 root class."""
        g = generator(seed, device)
        root = torch.randint(2, (num_samples, 1), generator=g, device=g.device)
        node = (2 * root - 1).float()
        for _ in range(self.L):
            node = node.repeat_interleave(self.s, dim=1)
            flip = torch.rand(node.shape, generator=g, device=g.device) < self.eps
            node = torch.where(flip, -node, node)
        return node, root[:, 0]

    def root_llr(self, x: torch.Tensor) -> torch.Tensor:
        """log P(root=+1 | x) / P(root=-1 | x) by belief propagation, ``[N, s^L]`` -> ``[N]``.

        The message a node with log-likelihood ratio l sends its parent through a
        binary symmetric channel is ``log((1-eps) e^l + eps) - log(eps e^l + 1-eps)``;
        a leaf is observed, so it sends ``x log((1-eps)/eps)``. A node's l is the sum
        of its children's messages.
        """
        a, b = math.log1p(-self.eps), math.log(self.eps)
        message = x * (a - b)  # [N, s^L]
        for _ in range(self.L - 1):
            llr = message.view(len(x), -1, self.s).sum(-1)  # one level up: [N, s^(level)]
            message = torch.logaddexp(llr + a, torch.full_like(llr, b)) - torch.logaddexp(
                llr + b, torch.full_like(llr, a)
            )
        return message.view(len(x), self.s).sum(-1)

    def bayes_metric(self, x: torch.Tensor, y: torch.Tensor) -> float:
        """Error rate of the Bayes-optimal classifier (the sign of the root's
        posterior log-ratio) on ``(x, y)``."""
        return ((self.root_llr(x) > 0).long() != y).float().mean().item()

    def rules(self) -> dict[str, Callable[[torch.Tensor], torch.Tensor]]:
        """``majority`` (:func:`majority`): the majority sign of the leaves, ties to
        class 1. Through binary symmetric channels it beats chance at large L exactly
        where the Bayes rule does, ``s (1 - 2 eps)^2 > 1`` (Mossel 2016), though its
        error can sit above the Bayes error."""
        return {"majority": majority}


def majority(x: torch.Tensor) -> torch.Tensor:
    """Majority vote of the leaves ``x`` ``[N, s^L]`` in {-1, +1} -> class int64 ``[N]``:
    1 where the leaves sum to ``>= 0`` (ties to class 1, the root +1), else 0."""
    return (x.sum(1) >= 0).long()

"""``product``: y = x_1 x_2 ... x_n (Lin, Tegmark & Rolnick 2017, Sec. III)."""

from __future__ import annotations

import torch

from depthbench.tasks.base import Task, check_int, check_interval, generator, uniform


class Product(Task):
    """Product of ``n`` i.i.d. uniform inputs on ``[low, high]``.

    Theory (SCIENCE.md, "product"): one hidden layer of smooth neurons needs
    ``2^n`` neurons; a deep binary tree of 4-neuron multiplication gates needs
    ``4 (n - 1)``.
    """

    family = "product"

    def __init__(self, n: int = 8, low: float = -1.0, high: float = 1.0) -> None:
        self.n = check_int("task.n", n, 2, 64)
        self.low, self.high = check_interval("task.low", low, "task.high", high)
        self.kind = "regression"
        self.input_dim = self.n
        self.n_classes = 0
        self.theory = {"shallow_neurons": 2.0**self.n, "deep_neurons": 4.0 * (self.n - 1)}
        self.params = {"n": self.n, "low": self.low, "high": self.high}

    def sample(
        self, num_samples: int, seed: int, device: torch.device | str = "cpu"
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``x`` uniform ``[num_samples, n]``; ``y = prod_i x_i``, ``[num_samples]``."""
        x = uniform(num_samples, self.n, self.low, self.high, generator(seed, device))
        return x, x.prod(dim=1)

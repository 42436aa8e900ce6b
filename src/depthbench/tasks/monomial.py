"""Monomials: ``product``, ``monomial`` and ``power`` (Lin, Tegmark & Rolnick 2017).

All three draw x i.i.d. uniform on ``[low, high]`` and return ``prod_i x_i^r_i``;
they differ in how the exponents are given and in the theory they carry
(docs/science.md, "product", "monomial", "power").
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from depthbench import constructions
from depthbench.constructions import Builder
from depthbench.errors import ConfigError
from depthbench.schema import DEEP_NEURONS, SHALLOW_NEURONS
from depthbench.seeding import generator
from depthbench.tasks.base import Task, uniform
from depthbench.validate import check_int, check_interval


class Monomial(Task):
    """y = x_1^r_1 ... x_n^r_n.

    Theory: one hidden layer of smooth neurons needs ``prod_i (r_i + 1)`` neurons;
    a deep network ``sum_i 7 ceil(log2 r_i)`` for the powers (``power``'s count) plus
    ``4 (k - 1)`` to multiply the ``k`` factors (``product``'s count), so the three
    families give one function one count. Like ``product``'s, the built network adds
    2 neurons per value carried through a layer when a tree level is not full.
    """

    family = "monomial"

    def __init__(
        self, exponents: Sequence[int] = (1, 2, 3), low: float = -1.0, high: float = 1.0
    ) -> None:
        if isinstance(exponents, (str, bytes)) or not isinstance(exponents, Sequence):
            raise ConfigError(
                "task.exponents", f"must be a list of integers >= 1, got {exponents!r}"
            )
        if not 1 <= len(exponents) <= 64:
            raise ConfigError(
                "task.exponents", f"must hold 1 to 64 exponents, got {len(exponents)}"
            )
        self.exponents = [check_int("task.exponents", r, 1, 64) for r in exponents]
        self.low, self.high = check_interval("task.low", low, "task.high", high)
        self.kind = "regression"
        self.input_dim = len(self.exponents)
        self.n_classes = 0
        self._powers = torch.tensor(self.exponents, dtype=torch.float32)

    def theory(self) -> dict[str, float]:
        """Neurons of the shallow and deep constructions."""
        return {
            SHALLOW_NEURONS: float(math.prod(r + 1 for r in self.exponents)),
            DEEP_NEURONS: float(
                sum(7 * math.ceil(math.log2(r)) for r in self.exponents)
                + 4 * (len(self.exponents) - 1)
            ),
        }

    def constructions(self, max_neurons: int) -> dict[str, Builder]:
        """The deep network of multiplication gates, and the shallow product."""
        return constructions.for_monomial(self.family, self.exponents, max_neurons)

    def sample(
        self, num_samples: int, seed: int, device: torch.device | str = "cpu"
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``x`` uniform ``[num_samples, n]``; ``y = prod_i x_i^r_i``, ``[num_samples]``."""
        x = uniform(num_samples, self.input_dim, self.low, self.high, generator(seed, device))
        return x, x.pow(self._powers.to(x.device)).prod(dim=1)


class Product(Monomial):
    """y = x_1 x_2 ... x_n: ``2^n`` neurons shallow, ``4 (n - 1)`` deep (a binary tree
    of 4-neuron multiplication gates; n a power of two)."""

    family = "product"

    def __init__(self, n: int = 8, low: float = -1.0, high: float = 1.0) -> None:
        n = check_int("task.n", n, 2, 64)
        super().__init__([1] * n, low, high)
        self.n = n

    def theory(self) -> dict[str, float]:
        """2^n neurons shallow, 4(n - 1) deep."""
        return {SHALLOW_NEURONS: 2.0**self.n, DEEP_NEURONS: 4.0 * (self.n - 1)}


class Power(Monomial):
    """y = x^d: ``d + 1`` neurons shallow, at most ``7 ceil(log2 d)`` deep."""

    family = "power"

    def __init__(self, d: int = 8, low: float = -1.0, high: float = 1.0) -> None:
        d = check_int("task.d", d, 2, 64)
        super().__init__([d], low, high)
        self.d = d

    def theory(self) -> dict[str, float]:
        """d + 1 neurons shallow, 7 ceil(log2 d) deep."""
        return {SHALLOW_NEURONS: self.d + 1.0, DEEP_NEURONS: 7.0 * math.ceil(math.log2(self.d))}

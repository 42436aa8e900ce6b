"""``sawtooth``: the iterated tent map (Telgarsky 2015, arXiv 1509.08101; COLT 2016)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from depthbench import constructions
from depthbench.bounds import AP_POINTS
from depthbench.constructions import Builder
from depthbench.schema import DEEP_NEURONS, SHALLOW_NEURONS
from depthbench.seeding import generator
from depthbench.tasks.base import Task
from depthbench.validate import check_choice, check_int

MODES = ("regression", "classification", "points")


def tent(x: torch.Tensor, k: int) -> torch.Tensor:
    """T^k(x), ``T(x) = 2 relu(x) - 4 relu(x - 1/2)`` on [0, 1]: 2^k linear pieces.

    Exactly what a deep ReLU network with 2 units per layer and k layers computes.
    """
    for _ in range(k):
        x = 2 * F.relu(x) - 4 * F.relu(x - 0.5)
    return x


class Sawtooth(Task):
    """The k-fold tent map on [0, 1], in three modes.

    - ``regression``: x ~ U[0, 1], y = T^k(x).
    - ``classification``: x ~ U[0, 1], y = 1[T^k(x) >= 1/2]: 2^k alternating intervals.
    - ``points``: Telgarsky's n-ap, n = 2^k alternating points, x = i / n with i
      uniform on {0, ..., n - 1}, y = i mod 2 (= T^k(x)). The set is finite and the
      claim is about fitting it, so train and test draw from the same points.

    Theory: a one-hidden-layer ReLU net with m units has at most m + 1 pieces, so it
    needs ``2^k - 1`` units; the deep net needs ``2k``. On ``points``, every ReLU net
    of l hidden layers of m units errs on at least ``(n - 4 (2m)^l) / (3n)`` of them
    (:func:`depthbench.bounds.sawtooth_points`; ``ap_points`` is n).
    """

    family = "sawtooth"

    def __init__(self, k: int = 4, mode: str = "regression") -> None:
        self.k = check_int("task.k", k, 1, 24)
        self.mode = check_choice("task.mode", mode, MODES)
        self.kind = "regression" if mode == "regression" else "classification"
        self.input_dim = 1
        self.n_classes = 0 if mode == "regression" else 2
        self.continuous = mode != "points"  # 2^k + 1 points

    def theory(self) -> dict[str, float]:
        """ReLU units (hidden neurons): 2^k - 1 shallow, 2k deep; n = 2^k of the n-ap."""
        return {
            SHALLOW_NEURONS: 2.0**self.k - 1,
            DEEP_NEURONS: 2.0 * self.k,
            AP_POINTS: 2.0**self.k,
        }

    def constructions(self, max_neurons: int) -> dict[str, Builder]:
        """Telgarsky's deep and shallow sawtooth networks."""
        return constructions.for_sawtooth(self.k, self.kind, max_neurons)

    def sample(
        self, num_samples: int, seed: int, device: torch.device | str = "cpu"
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``x`` ``[num_samples, 1]`` in [0, 1]; ``y`` ``[num_samples]``."""
        g = generator(seed, device)
        if self.mode == "points":
            i = torch.randint(2**self.k, (num_samples,), generator=g, device=g.device)
            return (i.float() / 2**self.k).unsqueeze(1), i % 2
        x = torch.rand(num_samples, 1, generator=g, device=g.device)
        y = tent(x[:, 0], self.k)
        return x, (y if self.mode == "regression" else (y >= 0.5).long())

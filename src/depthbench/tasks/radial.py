"""``radial``: y = g(||x||) in d dimensions (Eldan & Shamir 2016; Safran & Shamir 2017)."""

from __future__ import annotations

import math

import torch

from depthbench.tasks.base import Task, generator
from depthbench.validate import check_choice, check_int, check_positive

PROFILES = ("ball", "oscillating")


class Radial(Task):
    """Radial targets of x ~ N(0, I_d); ``r0`` is the median of ||x|| (chi with d
    degrees of freedom, Wilson-Hilferty approximation), so both profiles are
    centred on where the data lie.

    - ``ball``: classification, y = 1[||x|| <= r0]; the classes are balanced.
    - ``oscillating``: regression, y = sin(frequency (||x|| - r0)).

    Theory: depth 3 approximates such functions with poly(d) width, depth 2 needs
    width exponential in d (for suitable profiles and input distributions).
    """

    family = "radial"

    def __init__(self, d: int = 8, profile: str = "ball", frequency: float = 8.0) -> None:
        self.d = check_int("task.d", d, 1, 4096)
        self.profile = check_choice("task.profile", profile, PROFILES)
        self.frequency = check_positive("task.frequency", frequency)
        self.r0 = math.sqrt(self.d * (1 - 2 / (9 * self.d)) ** 3)
        self.kind = "classification" if profile == "ball" else "regression"
        self.input_dim = self.d
        self.n_classes = 2 if profile == "ball" else 0
        self.theory = {"d": float(self.d), "r0": self.r0}
        self.params = {"d": self.d, "profile": profile, "frequency": self.frequency}

    def sample(
        self, num_samples: int, seed: int, device: torch.device | str = "cpu"
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``x`` Gaussian ``[num_samples, d]``; ``y`` ``[num_samples]``."""
        g = generator(seed, device)
        x = torch.randn(num_samples, self.d, generator=g, device=g.device)
        r = x.norm(dim=1)
        if self.profile == "ball":
            return x, (r <= self.r0).long()
        return x, torch.sin(self.frequency * (r - self.r0))

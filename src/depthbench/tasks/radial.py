"""``radial``: y = g(||x||) in d dimensions (Eldan & Shamir 2016; Safran & Shamir 2017)."""

from __future__ import annotations

import torch

from depthbench.seeding import derive_seed, generator
from depthbench.tasks.base import DISTRIBUTIONS, Task, draw_inputs
from depthbench.validate import check_choice, check_int, check_positive

PROFILES = ("ball", "oscillating")


class Radial(Task):
    """Radial targets of x ~ N(0, I_d) or uniform on [-1, 1]^d (``distribution``);
    ``r0`` is the median of ||x||, estimated on 2^16 draws of a fixed seed, so both
    profiles are centred on where the data lie.

    - ``ball``: classification, y = 1[||x|| <= r0]; the classes are balanced.
    - ``oscillating``: regression, y = sin(frequency (||x|| - r0)).

    Theory: depth 3 approximates such functions with poly(d) width, depth 2 needs
    width exponential in d (for suitable profiles and input distributions).
    """

    family = "radial"

    def __init__(
        self,
        d: int = 8,
        profile: str = "ball",
        frequency: float = 8.0,
        distribution: str = "gaussian",
    ) -> None:
        self.d = check_int("task.d", d, 1, 4096)
        self.profile = check_choice("task.profile", profile, PROFILES)
        self.frequency = check_positive("task.frequency", frequency)
        self.distribution = check_choice("task.distribution", distribution, DISTRIBUTIONS)
        g = generator(derive_seed("radial-median", self.d, distribution))
        self.r0 = draw_inputs(distribution, 2**16, self.d, g).norm(dim=1).median().item()
        self.kind = "classification" if profile == "ball" else "regression"
        self.input_dim = self.d
        self.n_classes = 2 if profile == "ball" else 0

    def theory(self) -> dict[str, float]:
        """The dimension and the radius r0 of the profile (the median norm)."""
        return {"d": float(self.d), "r0": self.r0}

    def sample(
        self, num_samples: int, seed: int, device: torch.device | str = "cpu"
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``x`` ``[num_samples, d]``; ``y`` ``[num_samples]``."""
        x = draw_inputs(self.distribution, num_samples, self.d, generator(seed, device))
        r = x.norm(dim=1)
        if self.profile == "ball":
            return x, (r <= self.r0).long()
        return x, torch.sin(self.frequency * (r - self.r0))

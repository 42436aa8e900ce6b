"""``radial``: y = g(||x||) in d dimensions (Eldan & Shamir 2016; Safran & Shamir 2017)."""

from __future__ import annotations

import math

import torch

from depthbench.errors import ConfigError
from depthbench.seeding import derive_seed, generator
from depthbench.tasks import eldan_shamir
from depthbench.tasks.base import DISTRIBUTIONS, Task, draw_inputs
from depthbench.validate import SEED_MAX, check_choice, check_int, check_positive

PROFILES = ("ball", "ball_l2", "oscillating", "shells")
LAWS = (*DISTRIBUTIONS, "eldan_shamir")


class Radial(Task):
    """Radial targets of x drawn from ``distribution``: N(0, I_d), uniform on
    [-1, 1]^d, or ``eldan_shamir``, Eldan & Shamir's density phi^2 (the squared Fourier
    transform of the unit-volume ball's indicator, :mod:`depthbench.tasks.eldan_shamir`;
    even d). ``r0`` is the median of ||x||, estimated on 2^16 draws of a fixed seed.

    - ``ball``: classification, y = 1[||x|| <= r0]; the classes are balanced.
    - ``ball_l2``: the same indicator as a regression target, scored by relative MSE
      (Safran & Shamir 2017 approximate it in L2): no argmax hands the threshold over.
    - ``oscillating``: regression, y = sin(frequency (||x|| - r0)).
    - ``shells``: Eldan & Shamir's target, y = sum_i e_i 1[||x|| in Delta_i]: the
      interval [alpha sqrt(d), 2 alpha sqrt(d)] cut into ``shells`` equal pieces
      Delta_i, signs e_i = +-1 drawn from ``function_seed``; 0 elsewhere.

    Theory: depth 3 approximates such functions with poly(d) width, depth 2 needs
    width exponential in d (Eldan & Shamir, for ``shells`` under ``eldan_shamir``);
    ``shell_mass`` is the probability that ||x|| falls in the shells.
    """

    family = "radial"

    def __init__(
        self,
        d: int = 8,
        profile: str = "ball",
        frequency: float = 8.0,
        distribution: str = "gaussian",
        shells: int = 16,
        alpha: float = 1.0,
        function_seed: int = 0,
    ) -> None:
        self.d = check_int("task.d", d, 1, 4096)
        self.profile = check_choice("task.profile", profile, PROFILES)
        self.frequency = check_positive("task.frequency", frequency)
        self.distribution = check_choice("task.distribution", distribution, LAWS)
        self.shells = check_int("task.shells", shells, 1, 4096)
        self.alpha = check_positive("task.alpha", alpha)
        self.function_seed = check_int("task.function_seed", function_seed, 0, SEED_MAX)
        if distribution == "eldan_shamir" and (self.d % 2 or not 2 <= self.d <= 128):
            raise ConfigError(
                "task.d", f"must be even, 2 to 128, for the eldan_shamir law, got {self.d}"
            )
        g = generator(derive_seed("radial-median", self.d, distribution))
        self.r0 = self._inputs(2**16, g).norm(dim=1).median().item()
        signs = generator(derive_seed("radial-shells", self.function_seed, self.shells))
        self.signs = torch.randint(2, (self.shells,), generator=signs).float() * 2 - 1
        self.kind = "classification" if profile == "ball" else "regression"
        self.input_dim = self.d
        self.n_classes = 2 if profile == "ball" else 0

    def _inputs(self, num_samples: int, g: torch.Generator) -> torch.Tensor:
        if self.distribution == "eldan_shamir":
            return eldan_shamir.sample(num_samples, self.d, g)
        return draw_inputs(self.distribution, num_samples, self.d, g)

    @property
    def shell_range(self) -> tuple[float, float]:
        """The radii [alpha sqrt(d), 2 alpha sqrt(d)] the shells cover."""
        low = self.alpha * math.sqrt(self.d)
        return low, 2 * low

    def theory(self) -> dict[str, float]:
        """The dimension, the radius r0 (the median norm) and ``shell_mass``, the
        probability of the shells (estimated on 2^16 draws of a fixed seed)."""
        low, high = self.shell_range
        g = generator(derive_seed("radial-shell-mass", self.d, self.distribution, self.alpha))
        r = self._inputs(2**16, g).norm(dim=1)
        inside = ((r >= low) & (r < high)).float().mean().item()
        return {"d": float(self.d), "r0": self.r0, "shell_mass": inside}

    def target(self, r: torch.Tensor) -> torch.Tensor:
        """The profile g at norms ``r`` ``[N]`` -> ``[N]`` (float; the class for ``ball``)."""
        if self.profile in ("ball", "ball_l2"):
            return (r <= self.r0).float()
        if self.profile == "oscillating":
            return torch.sin(self.frequency * (r - self.r0))
        low, high = self.shell_range
        index = ((r - low) / (high - low) * self.shells).floor().long()
        inside = (index >= 0) & (index < self.shells)
        signs = self.signs.to(r.device)[index.clamp(0, self.shells - 1)]
        return torch.where(inside, signs, torch.zeros_like(r))

    def sample(
        self, num_samples: int, seed: int, device: torch.device | str = "cpu"
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``x`` ``[num_samples, d]``; ``y`` ``[num_samples]``."""
        x = self._inputs(num_samples, generator(seed, device))
        y = self.target(x.norm(dim=1))
        return x, (y.long() if self.profile == "ball" else y)

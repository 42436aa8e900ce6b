"""``polynomial``: sparse, local, low-order "Hamiltonians" (Lin, Tegmark & Rolnick 2017,
Sec. II)."""

from __future__ import annotations

import math

import torch

from depthbench.errors import ConfigError
from depthbench.seeding import derive_seed, generator
from depthbench.tasks.base import Task, uniform
from depthbench.validate import SEED_MAX, check_bool, check_choice, check_int, check_interval

LATTICES = ("chain", "square")


def bonds(n: int, lattice: str) -> torch.Tensor:
    """Nearest-neighbour pairs ``[n_bonds, 2]`` of an open chain or an open square lattice."""
    if lattice == "chain":
        i = torch.arange(n - 1)
        return torch.stack([i, i + 1], dim=1)
    side = math.isqrt(n)
    grid = torch.arange(n).view(side, side)
    right = torch.stack([grid[:, :-1].reshape(-1), grid[:, 1:].reshape(-1)], dim=1)
    down = torch.stack([grid[:-1, :].reshape(-1), grid[1:, :].reshape(-1)], dim=1)
    return torch.cat([right, down])


class Polynomial(Task):
    """y = sum_<ij> J_ij x_i x_j + sum_i K_i x_i^degree over the bonds <ij> of a lattice.

    Couplings J, K ~ N(0, 1) per bond and site, fixed by ``function_seed``; with
    ``symmetric=true`` one J and one K are shared by every bond and site
    (translation invariance). Inputs i.i.d. uniform on ``[low, high]``.
    """

    family = "polynomial"

    def __init__(
        self,
        n: int = 16,
        degree: int = 4,
        lattice: str = "chain",
        symmetric: bool = False,
        low: float = -1.0,
        high: float = 1.0,
        function_seed: int = 0,
    ) -> None:
        self.n = check_int("task.n", n, 2, 4096)
        self.degree = check_int("task.degree", degree, 2, 4)
        check_choice("task.lattice", lattice, LATTICES)
        if lattice == "square" and math.isqrt(self.n) ** 2 != self.n:
            raise ConfigError(
                "task.n", f"a square lattice needs a square number of sites, got {self.n}"
            )
        check_bool("task.symmetric", symmetric)
        self.low, self.high = check_interval("task.low", low, "task.high", high)
        self.function_seed = check_int("task.function_seed", function_seed, 0, SEED_MAX)
        self.lattice, self.symmetric = lattice, symmetric
        self.kind, self.input_dim, self.n_classes = "regression", self.n, 0
        self.bonds = bonds(self.n, lattice)
        g = generator(derive_seed("polynomial", self.n, lattice, self.function_seed))
        n_j, n_k = (1, 1) if symmetric else (len(self.bonds), self.n)
        self._J = torch.randn(n_j, generator=g).expand(len(self.bonds)).clone()
        self._K = torch.randn(n_k, generator=g).expand(self.n).clone()

    def theory(self) -> dict[str, float]:
        """The lattice's bonds and the polynomial's degree."""
        return {"n_bonds": float(len(self.bonds)), "degree": float(self.degree)}

    def evaluate(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` ``[N, n]`` -> ``[N]``."""
        J, K, b = self._J.to(x.device), self._K.to(x.device), self.bonds.to(x.device)
        pairs = (x[:, b[:, 0]] * x[:, b[:, 1]]) @ J
        return pairs + x.pow(self.degree) @ K

    def sample(
        self, num_samples: int, seed: int, device: torch.device | str = "cpu"
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``x`` uniform ``[num_samples, n]``; ``y`` ``[num_samples]``."""
        x = uniform(num_samples, self.n, self.low, self.high, generator(seed, device))
        return x, self.evaluate(x)

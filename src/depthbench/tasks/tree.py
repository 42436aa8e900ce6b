"""``tree``: an s-ary compositional function of L levels (Poggio et al. 2017, Eq. 1)."""

from __future__ import annotations

import torch

from depthbench.errors import ConfigError
from depthbench.seeding import derive_seed, generator
from depthbench.tasks.base import Task, uniform
from depthbench.validate import check_int, check_interval


class Tree(Task):
    """f(x) = h_L(... h_1(x_1..x_s) ...) over ``n = s^L`` inputs.

    Level ``l`` (1-based) has ``s^(L-l)`` nodes; node ``j`` of level ``l`` reads the
    outputs of nodes ``s j .. s j + s - 1`` of level ``l - 1`` (level 0: the inputs).
    Each node is a random smooth function of its ``s`` arguments ``z``:

        h(z) = tanh(z^T A z + b^T z + c),  A_ij, b_i ~ N(0, 1/s),  c ~ N(0, 1/4),

    a low-order polynomial squashed to (-1, 1) so that the next level sees bounded
    inputs. ``function_seed`` fixes the node functions (the instance); data draws
    use the seed passed to :meth:`sample`.
    """

    family = "tree"

    def __init__(
        self,
        s: int = 2,
        L: int = 3,
        low: float = -1.0,
        high: float = 1.0,
        function_seed: int = 0,
    ) -> None:
        self.s = check_int("task.s", s, 2, 16)
        self.L = check_int("task.L", L, 1, 12)
        n = self.s**self.L
        if n > 4096:
            raise ConfigError(
                "task.L", f"s^L = {self.s}^{self.L} = {n} inputs; at most 4096 allowed"
            )
        self.low, self.high = check_interval("task.low", low, "task.high", high)
        self.function_seed = check_int("task.function_seed", function_seed, 0)
        self.kind = "regression"
        self.input_dim = n
        self.n_classes = 0
        g = generator(derive_seed("tree", self.s, self.L, self.function_seed))
        n_nodes = (n - 1) // (self.s - 1)  # s^(L-1) + ... + 1
        scale = self.s**-0.5
        self.A = torch.randn(n_nodes, self.s, self.s, generator=g) * scale
        self.b = torch.randn(n_nodes, self.s, generator=g) * scale
        self.c = torch.randn(n_nodes, generator=g) * 0.5

    def theory(self) -> dict[str, float]:
        """Inputs n = s^L and levels L of the hierarchy."""
        return {"n": float(self.input_dim), "levels": float(self.L)}

    def sample(
        self, num_samples: int, seed: int, device: torch.device | str = "cpu"
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``x`` uniform ``[num_samples, s^L]``; ``y = f(x)``, ``[num_samples]``."""
        x = uniform(num_samples, self.input_dim, self.low, self.high, generator(seed, device))
        return x, self.evaluate(x)

    def evaluate(self, x: torch.Tensor) -> torch.Tensor:
        """f(x) for ``x`` ``[N, s^L]`` -> ``[N]``."""
        return self.levels(x)[-1][:, 0]

    def levels(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Node outputs level by level, vectorised over nodes: ``[N, s^(L-l)]`` for
        l = 1..L (the last is the root, ``[N, 1]``)."""
        A, b, c = (t.to(x.device) for t in (self.A, self.b, self.c))
        z, first, out = x, 0, []
        for level in range(1, self.L + 1):
            width = self.s ** (self.L - level)
            node = slice(first, first + width)
            zz = z.reshape(z.shape[0], width, self.s)  # [N, width, s]
            quad = torch.einsum("nwi,wij,nwj->nw", zz, A[node], zz)
            z = torch.tanh(quad + torch.einsum("nwi,wi->nw", zz, b[node]) + c[node])
            out.append(z)
            first += width
        return out

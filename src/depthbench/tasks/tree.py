"""``tree``: an s-ary compositional function of L levels (Poggio et al. 2017, Eq. 1)."""

from __future__ import annotations

import torch

from depthbench.errors import ConfigError
from depthbench.seeding import derive_seed, generator
from depthbench.tasks.base import Task, uniform
from depthbench.validate import SEED_MAX, check_int, check_interval

KINKS = 4  # truncated powers per node of finite smoothness


class Tree(Task):
    """f(x) = h_L(... h_1(x_1..x_s) ...) over ``n = s^L`` inputs.

    Level ``l`` (1-based) has ``s^(L-l)`` nodes; node ``j`` of level ``l`` reads the
    outputs of nodes ``s j .. s j + s - 1`` of level ``l - 1`` (level 0: the inputs).
    Each node is a random function of its ``s`` arguments ``z``, squashed to (-1, 1)
    so that the next level sees bounded inputs. ``smoothness`` m sets its class:

    - m = 0 (infinitely smooth): ``h(z) = tanh(z^T A z + b^T z + c)``,
      ``A_ij, b_i ~ N(0, 1/s)``, ``c ~ N(0, 1/4)``;
    - m >= 1: ``h(z) = tanh(sum_k a_k relu(w_k^T z - t_k)^m + b^T z + c)`` over
      :data:`KINKS` truncated powers, ``a_k ~ N(0, 1)``, ``w_k ~ N(0, 1/s)``,
      ``t_k ~ U[-1/2, 1/2]``: m - 1 continuous derivatives and a bounded, jumping m-th,
      so h, and f by the chain rule, has smoothness exactly m (Sobolev W^{m, inf}).

    Theory (Poggio et al. 2017, Theorems 1-2): approximating f to sup-norm error e
    takes O(e^(-n/m)) units in one hidden layer and O((n - 1) e^(-s/m)) in a net shaped
    like the tree; for relative MSE (about e^2) against units N that is the exponent
    ``alpha_shallow = 2m/n`` and ``alpha_deep = 2m/s`` of ``test_metric ~ N^(-alpha)``:
    guarantees, worst case over the class; a member such as these, with its non-smooth
    set on a few hyperplanes, can be approximated faster (the report sets them beside
    the fitted exponents, converted to parameters). ``function_seed`` fixes
    the node functions (the instance); data draws use the seed passed to :meth:`sample`.
    """

    family = "tree"

    def __init__(
        self,
        s: int = 2,
        L: int = 3,
        low: float = -1.0,
        high: float = 1.0,
        function_seed: int = 0,
        smoothness: int = 0,
    ) -> None:
        self.s = check_int("task.s", s, 2, 16)
        self.L = check_int("task.L", L, 1, 12)
        n = self.s**self.L
        if n > 4096:
            raise ConfigError(
                "task.L", f"s^L = {self.s}^{self.L} = {n} inputs; at most 4096 allowed"
            )
        self.low, self.high = check_interval("task.low", low, "task.high", high)
        self.function_seed = check_int("task.function_seed", function_seed, 0, SEED_MAX)
        self.smoothness = check_int("task.smoothness", smoothness, 0, 8)
        self.kind = "regression"
        self.input_dim = n
        self.n_classes = 0
        g = generator(derive_seed("tree", self.s, self.L, self.function_seed))
        n_nodes = (n - 1) // (self.s - 1)  # s^(L-1) + ... + 1
        scale = self.s**-0.5
        self.A = torch.randn(n_nodes, self.s, self.s, generator=g) * scale
        self.b = torch.randn(n_nodes, self.s, generator=g) * scale
        self.c = torch.randn(n_nodes, generator=g) * 0.5
        g = generator(derive_seed("tree-kinks", self.s, self.L, self.function_seed))
        self.a = torch.randn(n_nodes, KINKS, generator=g)
        self.w = torch.randn(n_nodes, KINKS, self.s, generator=g) * scale
        self.t = torch.rand(n_nodes, KINKS, generator=g) - 0.5

    def theory(self) -> dict[str, float]:
        """Inputs n = s^L, levels L, and for m >= 1 the guaranteed exponents of relative
        MSE against units, ``alpha_shallow = 2m/n`` and ``alpha_deep = 2m/s``."""
        out = {"n": float(self.input_dim), "levels": float(self.L)}
        if self.smoothness:
            out["alpha_shallow"] = 2 * self.smoothness / self.input_dim
            out["alpha_deep"] = 2 * self.smoothness / self.s
        return out

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
        A, b, c, a, w, t = (p.to(x) for p in (self.A, self.b, self.c, self.a, self.w, self.t))
        z, first, out = x, 0, []
        for level in range(1, self.L + 1):
            width = self.s ** (self.L - level)
            node = slice(first, first + width)
            zz = z.reshape(z.shape[0], width, self.s)  # [N, width, s]
            if self.smoothness:  # sum_k a_k relu(w_k . z - t_k)^m: [N, width]
                ramp = torch.relu(torch.einsum("nwi,wki->nwk", zz, w[node]) - t[node])
                inner = (ramp.pow(self.smoothness) * a[node]).sum(-1)
            else:
                inner = torch.einsum("nwi,wij,nwj->nw", zz, A[node], zz)
            z = torch.tanh(inner + torch.einsum("nwi,wi->nw", zz, b[node]) + c[node])
            out.append(z)
            first += width
        return out

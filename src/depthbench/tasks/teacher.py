"""``teacher``: targets from a random network of depth L_t (the control family)."""

from __future__ import annotations

import torch

from depthbench.seeding import derive_seed, generator
from depthbench.tasks.base import DISTRIBUTIONS, Task, draw_inputs
from depthbench.validate import SEED_MAX, check_choice, check_int

ACTIVATIONS = {"tanh": torch.tanh, "relu": torch.relu, "silu": torch.nn.functional.silu}


class Teacher(Task):
    """y = f(x) for a random dense network f with ``L_t`` hidden layers of ``width``.

    x ~ N(0, I_n) or uniform on [-1, 1]^n (``distribution``); weights N(0, 1/fan_in),
    no biases, fixed by ``function_seed``.
    With ``L_t = 1`` the target is itself a shallow network, so depth should not
    help: a suite that finds depth efficient here is broken.
    """

    family = "teacher"

    def __init__(
        self,
        n: int = 8,
        L_t: int = 1,
        width: int = 32,
        activation: str = "tanh",
        function_seed: int = 0,
        distribution: str = "gaussian",
    ) -> None:
        self.n = check_int("task.n", n, 1, 4096)
        self.L_t = check_int("task.L_t", L_t, 1, 16)
        self.width = check_int("task.width", width, 1, 4096)
        self.activation = check_choice("task.activation", activation, ACTIVATIONS)
        self.function_seed = check_int("task.function_seed", function_seed, 0, SEED_MAX)
        self.distribution = check_choice("task.distribution", distribution, DISTRIBUTIONS)
        self.kind, self.input_dim, self.n_classes = "regression", self.n, 0
        g = generator(derive_seed("teacher", self.n, self.L_t, self.width, self.function_seed))
        dims = [self.n] + [self.width] * self.L_t + [1]
        self.weights = [
            torch.randn(a, b, generator=g) / a**0.5 for a, b in zip(dims[:-1], dims[1:])
        ]

    def theory(self) -> dict[str, float]:
        """The teacher's hidden layers and width."""
        return {"L_t": float(self.L_t), "width": float(self.width)}

    def evaluate(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` ``[N, n]`` -> ``[N]``."""
        act = ACTIVATIONS[self.activation]
        h = x
        for w in self.weights[:-1]:
            h = act(h @ w.to(x.device))
        return (h @ self.weights[-1].to(x.device))[:, 0]

    def sample(
        self, num_samples: int, seed: int, device: torch.device | str = "cpu"
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``x`` ``[num_samples, n]``; ``y`` ``[num_samples]``."""
        x = draw_inputs(self.distribution, num_samples, self.n, generator(seed, device))
        return x, self.evaluate(x)

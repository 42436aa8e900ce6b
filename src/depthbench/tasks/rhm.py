"""``rhm``: the Random Hierarchy Model (Cagnetta, Petrini, Tomasini, Favero & Wyart,
PRX 14, 031001, 2024; arXiv 2307.02129)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from depthbench.draws import Draw
from depthbench.errors import ConfigError
from depthbench.schema import P_STAR
from depthbench.seeding import derive_seed, generator
from depthbench.tasks.base import Task
from depthbench.validate import SEED_MAX, check_int

MAX_INDEX = 2**62  # inputs are indexed by int64
MAX_TUPLES = 2**26  # v^s: the tuples a level's rules are drawn from
DRAW_CHUNK = 1 << 16  # indices drawn at a time where P_max is too large to permute


class RHM(Task):
    """A class label rewritten L times into s-tuples of symbols from a vocabulary of v.

    At each level every parent symbol (one of ``n_c`` classes at the top, one of
    ``v`` symbols below) owns ``m`` distinct s-tuples, drawn without replacement
    from the ``v^s`` possible ones, so no tuple has two parents. An input is the
    ``s^L`` leaf symbols, one-hot: ``x`` is ``[v, s^L]`` flattened (``input_shape``).

    Every input corresponds to one (class, rule choice per internal node) and back,
    so inputs are indexed by integers in ``[0, P_max)``,
    ``P_max = n_c m^((s^L - 1)/(s - 1))``, and drawn without replacement as in the
    original code. Theory: deep CNNs learn with ``P_star = n_c m^L`` samples.
    """

    family = "rhm"
    continuous = False  # P_max distinct inputs

    def __init__(
        self, v: int = 16, m: int = 4, s: int = 2, L: int = 3, n_c: int = 8, function_seed: int = 0
    ) -> None:
        self.v = check_int("task.v", v, 2, 1024)
        self.m = check_int("task.m", m, 1)
        self.s = check_int("task.s", s, 2, 16)
        self.L = check_int("task.L", L, 1, 16)
        self.n_c = check_int("task.n_c", n_c, 2)
        self.function_seed = check_int("task.function_seed", function_seed, 0, SEED_MAX)
        tuples = self.v**self.s
        if tuples > MAX_TUPLES:
            raise ConfigError("task.v", f"v^s = {tuples} tuples exceed {MAX_TUPLES}; lower v or s")
        if self.n_c * self.m > tuples:
            raise ConfigError(
                "task.m",
                f"n_c * m = {self.n_c * self.m} exceeds v^s = {tuples}: the classes' "
                "rules cannot all be distinct; lower m or n_c, or raise v or s",
            )
        if self.L > 1 and self.m > self.v ** (self.s - 1):
            raise ConfigError(
                "task.m",
                f"m = {self.m} exceeds v^(s-1) = {self.v ** (self.s - 1)}: the symbols' "
                "rules cannot all be distinct; lower m or raise v or s",
            )
        self.n_internal = (self.s**self.L - 1) // (self.s - 1)
        p_max = self.n_c * self.m**self.n_internal
        if p_max >= MAX_INDEX:
            raise ConfigError(
                "task.L",
                f"P_max = n_c m^((s^L-1)/(s-1)) = {p_max:.3g} distinct inputs is too "
                "many to index (limit 2^62); lower L, m or s",
            )
        self.P_max = p_max
        self.n_leaves = self.s**self.L
        self.kind, self.n_classes = "classification", self.n_c
        self.input_dim = self.v * self.n_leaves
        g = generator(
            derive_seed("rhm", self.v, self.m, self.s, self.L, self.n_c, self.function_seed)
        )
        self.grammar = [
            self._draw_rules(self.n_c if level == 0 else self.v, g) for level in range(self.L)
        ]

    def theory(self) -> dict[str, float]:
        """Distinct inputs P_max, and P_star = n_c m^L, the training-set size from which
        deep networks learn (Cagnetta et al. 2024)."""
        return {"P_max": float(self.P_max), P_STAR: float(self.n_c * self.m**self.L)}

    @property
    def input_shape(self) -> tuple[int, int]:
        """``(v, s^L)``: one-hot channels per leaf position."""
        return (self.v, self.n_leaves)

    def _draw_rules(self, parents: int, g: torch.Generator) -> torch.Tensor:
        """``[parents, m, s]`` symbols: ``m`` distinct s-tuples per parent, none shared."""
        picks = torch.randperm(self.v**self.s, generator=g)[: parents * self.m]
        digits = self.v ** torch.arange(self.s - 1, -1, -1)
        return (picks.view(parents, self.m, 1) // digits) % self.v

    def decode(self, index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Inputs with indices ``index`` ``[N]`` (int64 in ``[0, P_max)``).

        Returns ``leaves`` int64 ``[N, s^L]`` and ``label`` int64 ``[N]``. The index is
        the mixed-radix number (class, choice of internal node n_internal-1, ..., of
        node 0), nodes numbered level by level from the root.
        """
        choices = []
        rest = index.clone()
        for _ in range(self.n_internal):
            choices.append(rest % self.m)
            rest = rest // self.m
        label = rest
        choice = torch.stack(choices, dim=1)  # [N, n_internal]
        symbols, first = label.unsqueeze(1), 0
        for level, rules in enumerate(self.grammar):
            width = self.s**level
            pick = choice[:, first : first + width]
            symbols = rules.to(index.device)[symbols, pick].flatten(1)  # [N, width * s]
            first += width
        return symbols, label

    def one_hot(self, leaves: torch.Tensor) -> torch.Tensor:
        """``[N, s^L]`` symbols -> float ``[N, v * s^L]`` (``[N, v, s^L]`` flattened)."""
        return F.one_hot(leaves, self.v).transpose(1, 2).flatten(1).float()

    def check_draw(self, n_train: int, n_val: int, n_test: int) -> None:
        """Train, validation and test inputs are distinct: together at most ``P_max``."""
        total = n_train + n_val + n_test
        if total > self.P_max:
            raise ConfigError(
                "grid.n_train",
                f"{total} samples (train {n_train} + validation {n_val} + test "
                f"{n_test}) exceed the P_max = {self.P_max} distinct inputs of this rhm; lower "
                "grid.n_train, train.n_val or train.n_test",
            )

    def _distinct(self, num_samples: int, g: torch.Generator) -> torch.Tensor:
        """``num_samples`` distinct indices in ``[0, P_max)``, in random order. The draw
        is prefix-stable: its first k indices are the same whatever ``num_samples``, so
        a larger draw extends a smaller one."""
        self.check_draw(num_samples, 0, 0)
        if self.P_max <= 2**24:
            return torch.randperm(self.P_max, generator=g, device=g.device)[:num_samples]
        picked = np.empty(0, dtype=np.int64)
        while len(picked) < num_samples:  # P_max >> num_samples: few collisions
            drawn = torch.randint(self.P_max, (DRAW_CHUNK,), generator=g, device=g.device)
            merged = np.concatenate([picked, drawn.cpu().numpy()])
            _, first = np.unique(merged, return_index=True)
            picked = merged[np.sort(first)]  # first occurrences, in the order drawn
        return torch.from_numpy(picked[:num_samples].copy()).to(g.device)

    def sample(
        self, num_samples: int, seed: int, device: torch.device | str = "cpu"
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``num_samples`` distinct inputs: ``x`` ``[num_samples, v s^L]``, ``y`` int64."""
        leaves, label = self.decode(self._distinct(num_samples, generator(seed, device)))
        return self.one_hot(leaves), label

    def split(self, n_train: int, n_val: int, n_test: int, seed: int) -> tuple[Draw, Draw, Draw]:
        """Test, validation and training inputs drawn together without replacement, in
        that order, on the CPU: no two share an input, the test and validation draws do not
        depend on ``n_train``, and a larger training draw extends a smaller one."""
        x, y = self.sample(n_test + n_val + n_train, derive_seed(seed, "split"))
        val_end = n_test + n_val
        return (
            (x[val_end:], y[val_end:]),
            (x[n_test:val_end], y[n_test:val_end]),
            (x[:n_test], y[:n_test]),
        )

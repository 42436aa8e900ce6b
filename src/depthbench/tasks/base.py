"""The task interface shared by every generative family."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar, Literal

import torch

from depthbench.draws import Draw
from depthbench.seeding import derive_seed


Kind = Literal["regression", "classification"]


class Task(ABC):
    """One instance of a generative family: parameters fixed, data on demand.

    Subclasses set ``family``, ``kind``, ``input_dim``, ``n_classes`` and ``theory``
    in ``__init__`` after validating their parameters, and implement :meth:`sample`.
    ``params`` holds the validated parameters as plain Python values; they identify
    the instance in results (columns ``task.<name>``).
    """

    family: ClassVar[str]
    #: how ``report.eps`` reads by default: fractions of chance, or of the gap from the
    #: Bayes error to chance where the family computes the Bayes error
    eps_scale: ClassVar[str] = "chance"
    #: whether fresh samples never repeat an input (false for a finite input set), so that
    #: online training data (``grid.n_train: [online]``) stays apart from the test draw
    continuous: bool = True
    kind: Kind
    input_dim: int
    n_classes: int  # 0 for regression
    theory: dict[str, float]
    params: dict[str, Any]

    @abstractmethod
    def sample(
        self, num_samples: int, seed: int, device: torch.device | str = "cpu"
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw a dataset.

        Returns:
            x: float32 ``[num_samples, input_dim]``.
            y: float32 ``[num_samples]`` (regression) or int64 ``[num_samples]``
            (classification).
        """

    def split(self, n_train: int, n_val: int, n_test: int, seed: int) -> tuple[Draw, Draw, Draw]:
        """Train, validation and test draws, on the CPU, from independent streams
        derived from ``seed``: the same on every machine and device (move them after).

        Families with a finite input set override this to draw all three at once
        without replacement, so that no two share an input.
        """
        return (
            self.sample(n_train, derive_seed(seed, "train")),
            self.sample(n_val, derive_seed(seed, "validation")),
            self.sample(n_test, derive_seed(seed, "test")),
        )

    def check_draw(self, n_train: int, n_val: int, n_test: int) -> None:
        """Raise :class:`ConfigError` if the family cannot draw ``n_train`` training,
        ``n_val`` validation and ``n_test`` test samples (families with a finite input
        set); any size by default."""

    def bayes_metric(self, x: torch.Tensor, y: torch.Tensor) -> float | None:
        """test_metric of the Bayes-optimal predictor on ``(x, y)``, where the family
        can compute it (stored per run as ``bayes_metric``); ``None`` otherwise."""
        return None

    def rules(self) -> dict[str, Callable[[torch.Tensor], torch.Tensor]]:
        """Fixed prediction rules the family declares as baselines (name -> x [N, input_dim] -> predictions [N]); none by default."""
        return {}

    @property
    def input_shape(self) -> tuple[int, int]:
        """``(channels, positions)`` of ``x``, flattened channel-major: one channel
        per input position unless the family says otherwise (rhm: ``(v, s^L)``)."""
        return (1, self.input_dim)

    @property
    def chance(self) -> float:
        """test_metric at chance (docs/science.md, "Test metric"): 1.0 for regression
        (predicting the mean), ``1 - 1/n_classes`` for classification."""
        return 1.0 if self.kind == "regression" else 1.0 - 1.0 / self.n_classes

    @property
    def output_dim(self) -> int:
        """Network outputs: 1 for regression, ``n_classes`` for classification."""
        return 1 if self.kind == "regression" else self.n_classes


DISTRIBUTIONS = ("gaussian", "uniform")


def draw_inputs(
    distribution: str, num_samples: int, dim: int, g: torch.Generator
) -> torch.Tensor:
    """``[num_samples, dim]`` float32 inputs: N(0, I) or uniform on [-1, 1]^dim."""
    if distribution == "gaussian":
        return torch.randn(num_samples, dim, generator=g, device=g.device)
    return uniform(num_samples, dim, -1.0, 1.0, g)


def uniform(
    num_samples: int, dim: int, low: float, high: float, g: torch.Generator
) -> torch.Tensor:
    """i.i.d. uniform inputs on ``[low, high]``, float32 ``[num_samples, dim]``."""
    x = torch.rand(num_samples, dim, generator=g, device=g.device)
    return x.mul_(high - low).add_(low)

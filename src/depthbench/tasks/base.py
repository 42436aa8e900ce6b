"""The task interface shared by every generative family."""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar, Literal

import torch

from depthbench.constructions import Builder
from depthbench.draws import Draw
from depthbench.registry import register
from depthbench.schema import NOISE_FREE
from depthbench.seeding import derive_seed

Kind = Literal["regression", "classification"]


#: every task family by name, filled as each family's class is defined (a subclass of
#: :class:`Task` with its own ``family``)
FAMILIES: dict[str, type[Task]] = {}


class Task(ABC):
    """One instance of a generative family: parameters fixed, data on demand.

    A family is one subclass that sets ``family`` (which registers it in
    :data:`FAMILIES`), declares its parameters once, as the keyword arguments of
    ``__init__`` with their defaults, validates them there (raising
    :class:`~depthbench.errors.ConfigError` naming ``task.<name>``) and stores each as
    an attribute of the same name; it sets ``kind``, ``input_dim`` and ``n_classes``
    and implements :meth:`sample`. What the rest of the suite needs from a family is
    declared by overriding methods: :meth:`theory`, :meth:`bayes_metric`,
    :meth:`rules` (baselines), :meth:`constructions`, :meth:`split` and
    :meth:`check_draw` (finite input sets).
    """

    family: ClassVar[str]
    #: how ``report.eps`` reads by default: fractions of chance, or of the gap from the
    #: Bayes error to chance where the family computes the Bayes error
    eps_scale: ClassVar[str] = "chance"
    #: whether fresh samples never repeat an input (false for a finite input set), so that
    #: online training data (``grid.n_train: [online]``) stays apart from the test draw
    continuous: bool = True
    #: how the labels depend on the inputs, in words, for every report's header:
    #: noise-free unless the family says otherwise, so that a test error above 0 is
    #: approximation and estimation error, never label noise
    labels: ClassVar[str] = NOISE_FREE
    kind: Kind
    input_dim: int
    n_classes: int  # 0 for regression

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        register(FAMILIES, "task family", cls.__dict__.get("family"), cls)

    @classmethod
    def param_names(cls) -> list[str]:
        """The family's parameters (``task.<name>``): ``__init__``'s keyword arguments."""
        return [p for p in inspect.signature(cls.__init__).parameters if p != "self"]

    @property
    def params(self) -> dict[str, Any]:
        """The validated parameters as plain values; they identify the instance in
        results (columns ``task.<name>``)."""
        return {name: getattr(self, name) for name in self.param_names()}

    def theory(self) -> dict[str, float]:
        """What the family's theory states for this instance (columns ``theory.<key>``);
        the report reads :data:`~depthbench.schema.SHALLOW_NEURONS`,
        :data:`~depthbench.schema.DEEP_NEURONS` and :data:`~depthbench.schema.P_STAR`."""
        return {}

    def constructions(self, max_neurons: int) -> dict[str, Builder]:
        """The networks the family's theorems construct, by name, each built on demand
        from a validation draw ``(x [N, input_dim], y [N])`` that picks its scale
        (a :class:`depthbench.constructions.Construction`); shallow ones wider than
        ``max_neurons`` left out. None by default."""
        return {}

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
        return None

    def bayes_metric(self, x: torch.Tensor, y: torch.Tensor) -> float | None:
        """test_metric of the Bayes-optimal predictor on ``(x, y)``, where the family
        can compute it; ``None`` otherwise. A job calls it on a draw of its own, seeded
        by the instance and apart from the test draw, and stores the result per run as
        ``bayes_metric`` (:func:`depthbench.run._bayes`)."""
        return None

    def rules(self) -> dict[str, Callable[[torch.Tensor], torch.Tensor]]:
        """Fixed prediction rules the family declares as baselines: name -> a function of
        ``x`` ``[N, input_dim]`` giving predictions ``[N]``; none by default."""
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


def draw_inputs(distribution: str, num_samples: int, dim: int, g: torch.Generator) -> torch.Tensor:
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

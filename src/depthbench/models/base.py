"""The interface every model family implements, and the registry of families."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

import torch
from torch import nn

from depthbench.models.init import kinks_init_, uniform_init_
from depthbench.registry import register

#: every model family by name, filled as each family's class is defined (a subclass of
#: :class:`BatchedModel` with its own ``name``)
MODELS: dict[str, type[BatchedModel]] = {}


class BatchedModel(nn.Module, ABC):
    """``members`` independent networks of one shape, trained as one batched computation.

    A model family is one subclass that sets ``name`` (which registers it in
    :data:`MODELS`) and implements the static methods below, which take its
    hyper-parameters (``model.*``) as keyword arguments: :meth:`check_params` declares
    them, with their defaults, and validates them; :meth:`count_params` and
    :meth:`count_hidden` give one member's exact parameter and hidden-neuron counts
    (:meth:`count_flops` its forward FLOPs per sample, for comparisons at matched
    compute), from which :func:`depthbench.models.fit` solves the width for a budget
    (docs/science.md, "Budget"); :meth:`check_shape` says why a depth cannot fit an
    input. An instance holds its layers as (weight, bias) pairs with the member axis
    first (:meth:`layers`) and computes :meth:`batched_forward`.

    Shapes:
        input_shape: ``(channels, positions)``; inputs are flattened channel-major,
                     ``input_dim = channels * positions``
        forward:     ``[members, batch, input_dim]`` (a batch per member) or
                     ``[batch, input_dim]`` (shared by all members)
                     -> ``[members, batch, output_dim]``
    """

    name: ClassVar[str]
    #: whether the first layer is dense on the whole input (``[members, input_dim, width]``),
    #: as ``train.init=kinks`` (:meth:`place_kinks`) needs
    dense_input: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        register(MODELS, "model family", cls.__dict__.get("name"), cls)

    def __init__(
        self,
        input_shape: tuple[int, int],
        output_dim: int,
        depth: int,
        width: int,
        members: int,
        **params: Any,
    ) -> None:
        super().__init__()
        for key, value in (
            ("channels", input_shape[0]),
            ("positions", input_shape[1]),
            ("output_dim", output_dim),
            ("depth", depth),
            ("width", width),
            ("members", members),
        ):
            if value < 1:
                raise ValueError(f"{key} must be >= 1, got {value}")
        self.check_params(**params)
        reason = self.check_shape(input_shape, depth, **params)
        if reason:
            raise ValueError(reason)
        self.input_shape = (input_shape[0], input_shape[1])
        self.input_dim = input_shape[0] * input_shape[1]
        self.output_dim, self.depth, self.width, self.members = output_dim, depth, width, members
        self.params = params

    @staticmethod
    @abstractmethod
    def check_params(*args: Any, **params: Any) -> None:  # each family its own keywords
        """Validate the hyper-parameters (``model.*``, raising
        :class:`~depthbench.errors.ConfigError` naming the key) before any work."""

    @staticmethod
    def check_shape(input_shape: tuple[int, int], depth: int, **params: Any) -> str | None:
        """Why ``depth`` cannot fit an input of ``input_shape``, or ``None`` (any depth
        fits by default)."""
        return None

    @staticmethod
    @abstractmethod
    def count_params(
        input_shape: tuple[int, int], output_dim: int, depth: int, width: int, **params: Any
    ) -> int:
        """Exact trainable parameters of one member."""

    @staticmethod
    @abstractmethod
    def count_hidden(input_shape: tuple[int, int], depth: int, width: int, **params: Any) -> int:
        """Exact hidden neurons of one member."""

    @classmethod
    def count_flops(
        cls, input_shape: tuple[int, int], output_dim: int, depth: int, width: int, **params: Any
    ) -> int:
        """Forward FLOPs of one member on one sample: 2 per multiply-add, a bias counted
        as a multiply-add with input 1, activations not counted. By default every
        parameter is used once per sample (dense and locally connected layers), so
        ``2 * count_params``; a family that shares weights or pools overrides it."""
        return 2 * cls.count_params(input_shape, output_dim, depth, width, **params)

    @abstractmethod
    def layers(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """(weight ``[members, ..., fan_in, fan_out]``, bias ``[members, ..., 1, fan_out]``)
        pairs, input to output: what :meth:`reset_parameters` initialises."""

    @abstractmethod
    def batched_forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[members, batch, input_dim]`` or ``[batch, input_dim]`` ->
        ``[members, batch, output_dim]``; the shapes are checked by :meth:`forward`."""

    @property
    def n_params(self) -> int:
        return self.count_params(
            self.input_shape, self.output_dim, self.depth, self.width, **self.params
        )

    @property
    def forward_flops(self) -> int:
        return self.count_flops(
            self.input_shape, self.output_dim, self.depth, self.width, **self.params
        )

    @property
    def n_hidden(self) -> int:
        return self.count_hidden(self.input_shape, self.depth, self.width, **self.params)

    def reset_parameters(self, seeds: Sequence[int]) -> None:
        """Initialise member ``k`` from its own generator seeded with ``seeds[k]``
        (``torch.nn.Linear``'s distribution; :func:`~depthbench.models.init.uniform_init_`),
        so a member does not depend on the group it trains in."""
        if len(seeds) != self.members:
            raise ValueError(f"need {self.members} seeds, got {len(seeds)}")
        uniform_init_(self.layers(), seeds)

    def place_kinks(self, anchors: torch.Tensor) -> None:
        """Put first-layer unit ``j`` of member ``k``'s kink through ``anchors[k, j]``
        (``[members, width, input_dim]``; :func:`~depthbench.models.init.kinks_init_`)."""
        if not self.dense_input:
            raise ValueError(f"{self.name} has no dense first layer to place kinks in")
        weight, bias = self.layers()[0]
        kinks_init_(weight, bias, anchors)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batched = x.dim() == 3 and x.shape[0] == self.members
        if not (batched or x.dim() == 2) or x.shape[-1] != self.input_dim:
            raise ValueError(
                f"{self.name} expects [{self.members}, batch, {self.input_dim}] or "
                f"[batch, {self.input_dim}], got {list(x.shape)}"
            )
        return self.batched_forward(x)

"""A job's draws: train, validation and test sets of one task instance."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch

Draw = tuple[torch.Tensor, torch.Tensor]  # (x [N, input_dim], y [N])


@dataclass(frozen=True)
class Split:
    """Train/validation/test draws: x float32 ``[N, input_dim]``, y float32 ``[N]``
    (regression) or int64 ``[N]`` (classification). The validation draw selects every
    hyper-parameter; the test draw gives only the final number."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor

    def draws(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """``(x, y)`` of train, validation and test, in that order."""
        yield self.x_train, self.y_train
        yield self.x_val, self.y_val
        yield self.x_test, self.y_test

"""The polish of the best-effort fit: full-batch float64 L-BFGS from trained weights.

Adam under a decaying schedule can stop far from the minimum of its training loss; a
quasi-Newton polish from its weights tells a network that *cannot* fit better from
one whose optimiser stopped short (docs/science.md, "Best-effort fit"). Each member
is polished alone, in float64, with strong-Wolfe line searches
(:class:`torch.optim.LBFGS`): members of a group share no curvature pairs and no
step lengths, so a member's polish does not depend on the group it trained in.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from depthbench.models.base import BatchedModel
from depthbench.trainer import EVAL_ELEMENTS, per_member_loss

HISTORY = 20  # curvature pairs L-BFGS keeps


@dataclass(frozen=True)
class Polished:
    """Per polished member, arrays ``[K]``: the full-batch loss on its polish draw
    before and after (in the loss's units), and the L-BFGS iterations taken."""

    loss_before: np.ndarray
    loss_after: np.ndarray
    iterations: np.ndarray


def member(model: BatchedModel, k: int) -> BatchedModel:
    """Member ``k`` of ``model`` as a one-member float64 model (a copy)."""
    single = copy.deepcopy(model)
    single.members = 1
    with torch.no_grad():
        for name, p in single.named_parameters():
            p.data = dict(model.named_parameters())[name].data[k : k + 1].double().clone()
    return single


@torch.no_grad()
def put(model: BatchedModel, k: int, single: BatchedModel) -> None:
    """Write the one-member ``single`` back into member ``k`` of ``model``."""
    mine = dict(model.named_parameters())
    for name, p in single.named_parameters():
        mine[name][k].copy_(p[0].to(mine[name].dtype))


def full_loss(single: BatchedModel, kind: str, x: torch.Tensor, target: torch.Tensor) -> float:
    """Mean loss of a one-member model over ``x`` ``[N, input_dim]`` against ``target``
    ``[N]`` (the loss's units), its gradient accumulated in ``.grad``, in chunks of
    about :data:`~depthbench.trainer.EVAL_ELEMENTS` activations."""
    chunk = max(1, EVAL_ELEMENTS // max(1, single.n_hidden))
    total = 0.0
    for lo in range(0, len(x), chunk):
        xs, ts = x[lo : lo + chunk], target[lo : lo + chunk]
        loss = per_member_loss(kind, single(xs.double()), ts).sum() / len(x)
        loss.backward()
        total += loss.item()
    return total


def polish_member(
    single: BatchedModel, kind: str, x: torch.Tensor, target: torch.Tensor, iterations: int
) -> tuple[float, float, int]:
    """L-BFGS on the one-member ``single`` (in place) over the full batch ``x``
    ``[N, input_dim]``, ``target`` ``[N]``; ``(loss before, loss after, iterations)``.
    A step that makes the loss non-finite is undone (the weights before it are kept)."""
    params = list(single.parameters())
    optimizer = torch.optim.LBFGS(
        params,
        lr=1.0,
        max_iter=iterations,
        history_size=HISTORY,
        tolerance_grad=1e-12,
        tolerance_change=1e-15,
        line_search_fn="strong_wolfe",
    )

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        return torch.tensor(full_loss(single, kind, x, target), dtype=torch.float64)

    before = closure().item()
    start = [p.detach().clone() for p in params]
    optimizer.step(closure)
    after = closure().item()
    if not np.isfinite(after) or after > before:
        with torch.no_grad():
            for p, p0 in zip(params, start):
                p.copy_(p0)
        after = before
    taken = optimizer.state[params[0]].get("n_iter", 0)
    return before, after, int(taken)


def polish_group(
    model: BatchedModel,
    kind: str,
    draws: Sequence[tuple[torch.Tensor, torch.Tensor]],
    iterations: int,
) -> Polished:
    """Polish every member ``k`` of ``model`` (in place) on its own full batch
    ``draws[k] = (x [N_k, input_dim], target [N_k])`` in the loss's units, one member
    at a time (:func:`polish_member`)."""
    if len(draws) != model.members:
        raise ValueError(f"need {model.members} draws, one a member, got {len(draws)}")
    out = []
    for k, (x, target) in enumerate(draws):
        single = member(model, k)
        out.append(polish_member(single, kind, x, target, iterations))
        put(model, k, single)
    before, after, taken = (np.array(v) for v in zip(*out))
    return Polished(before, after, taken)

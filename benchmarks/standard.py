"""The standard grid of the performance suite, and the peer it is compared with.

Standard grid: task ``product`` n = 8; mlp depths {1, 2, 3, 4, 6}; 8 budgets
log-spaced from 1e2 to 3e4 parameters; 3 seeds x 3 learning rates (360 models);
batch 256. The peer trains the same models the way a researcher would: an
``nn.Sequential`` of ``nn.Linear``, ``torch.optim.Adam``, one model after another,
on the same data, steps, batch size and learning rates.
"""

from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from depthbench import models, tasks
from depthbench.seeding import derive_seed
from depthbench.trainer import Data

N_INPUTS = 8
DEPTHS = [1, 2, 3, 4, 6]
BUDGETS = [int(round(b)) for b in np.logspace(2, np.log10(3e4), 8)]
SEEDS = 3
LRS = [0.001, 0.003, 0.01]
BATCH = 256
N_TRAIN = 8192
N_VAL = 4096
N_TEST = 8192
ACTIVATION = "silu"

OVERRIDES = [  # the same grid for `depthbench run` (train.device is added per run)
    "task=product",
    f"task.n={N_INPUTS}",
    f"grid.depths=[{','.join(map(str, DEPTHS))}]",
    f"grid.budgets=[{','.join(map(str, BUDGETS))}]",
    f"grid.seeds={SEEDS}",
    f"grid.lrs=[{','.join(map(str, LRS))}]",
    f"grid.n_train=[{N_TRAIN}]",
    f"train.n_val={N_VAL}",
    f"train.n_test={N_TEST}",
    f"train.batch_size={BATCH}",
    "train.progress=false",
    f"model.activation={ACTIVATION}",
    "baselines=false",  # the benchmark times training: the peer fits no baselines
]


def data(device: torch.device = torch.device("cpu")) -> Data:
    """The draws `depthbench run` makes for this grid (data_seed 0), on ``device``."""
    task = tasks.make("product", n=N_INPUTS)
    return Data.from_draws(task.kind, *task.split(N_TRAIN, N_VAL, N_TEST, 0)).to(device)


def sync(device: torch.device) -> None:
    """Wait for ``device``'s queued work, so that a host clock times it."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def shapes() -> list[tuple[int, int]]:
    """(depth, width) of every feasible cell of the grid."""
    out = []
    for depth in DEPTHS:
        for budget in BUDGETS:
            fit = models.fit("mlp", (1, N_INPUTS), 1, depth, budget)
            if fit.feasible:
                out.append((depth, fit.width))
    return out


def matmul_flops_per_sample(depth: int, width: int) -> int:
    """Forward multiply-add FLOPs of one sample: 2 x (n w + (d-1) w^2 + w)."""
    return 2 * (N_INPUTS * width + (depth - 1) * width * width + width)


def peer_train(
    data: Data, depth: int, width: int, lr: float, seed: int, steps: int
) -> tuple[float, float]:
    """One model, trained the usual way; returns (test relative MSE, seconds of the
    training loop)."""
    torch.manual_seed(derive_seed(seed, "init") % 2**31)
    dims = [N_INPUTS] + [width] * depth
    layers: list[nn.Module] = []
    for a, b in zip(dims[:-1], dims[1:]):
        layers += [nn.Linear(a, b), nn.SiLU()]
    device = data.x_train.device
    model = nn.Sequential(*layers, nn.Linear(width, 1)).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    stats = data.blocks[0]  # one training draw: its target statistics
    y = (data.y_train - stats.y_mean) / stats.y_std
    g = torch.Generator().manual_seed(derive_seed(seed, "minibatch"))
    sync(device)
    start = time.perf_counter()
    for _ in range(steps):
        idx = torch.randint(len(y), (BATCH,), generator=g).to(device)
        loss = F.mse_loss(model(data.x_train[idx]).squeeze(-1), y[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    sync(device)
    seconds = time.perf_counter() - start
    with torch.no_grad():
        pred = model(data.x_test).squeeze(-1) * stats.y_std + stats.y_mean
    metric = ((pred - data.y_test).square().mean() / data.y_test.var(unbiased=False)).item()
    return metric, seconds


def matmul_size(device: torch.device) -> int:
    """Side of the square matmul that measures the rate: large enough to fill the device."""
    return 8192 if device.type == "cuda" else 2048


def matmul_rate(device: torch.device = torch.device("cpu"), repeats: int = 5) -> float:
    """Measured fp32 FLOP/s (full float32, no TF32) of a large square matmul on ``device``."""
    size = matmul_size(device)
    a, b = torch.randn(size, size, device=device), torch.randn(size, size, device=device)
    a @ b
    sync(device)
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    sync(device)
    return 2 * size**3 * repeats / (time.perf_counter() - start)


def activation_seconds(
    device: torch.device = torch.device("cpu"),
    widths: tuple[int, ...] = (64, 512, 3000),
    members: int = 9,
    repeats: int = 5,
) -> float:
    """Measured seconds per element of the activation's forward plus backward pass
    (SiLU: ``silu`` and ``silu_backward``), on group-shaped tensors
    ``[members, BATCH, width]``; the least over ``widths``, so that a floor built on it
    stays a lower bound for every cell."""
    best = float("inf")
    for width in widths:
        z = torch.randn(members, BATCH, width, device=device)
        grad = torch.randn_like(z)

        def passes(z: torch.Tensor = z, grad: torch.Tensor = grad) -> None:
            F.silu(z)
            torch.ops.aten.silu_backward(grad, z)

        passes()
        sync(device)
        start = time.perf_counter()
        for _ in range(repeats):
            passes()
        sync(device)
        best = min(best, (time.perf_counter() - start) / (repeats * z.numel()))
    return best

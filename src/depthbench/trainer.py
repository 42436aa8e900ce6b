"""One trainer: a group of same-shape models (members) as one batched computation.

Members differ by seed (initialisation and minibatch order), learning rate and
training-set size; a single model is a one-member group. Nothing inside the step
loop reads a value back to the host, so on CUDA the loop never synchronises.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import torch
import torch.nn.functional as F

from depthbench.config import ONLINE
from depthbench.draws import Split
from depthbench.optim import BatchedAdam
from depthbench.schedule import Schedule, checkpoints, converged
from depthbench.tasks.base import derive_seed

INDEX_BLOCK = 64  # minibatch indices are drawn this many steps at a time
EVAL_ELEMENTS = 1 << 24  # activations held at once during evaluation
Draw = tuple[torch.Tensor, torch.Tensor]  # (x [N, input_dim], y [N])
Sampler = Callable[[int, int, int], Draw]  # (num_samples, member seed, step) -> fresh draw


@dataclass(frozen=True)
class Member:
    """One model of a group: its seed, learning rate and training-set size."""

    seed: int
    lr: float
    n_train: int


@dataclass(frozen=True)
class Data(Split):
    """A task's draws (:class:`~depthbench.draws.Split`), on the training device.

    Members use the first ``n_train`` rows of ``x_train`` ``[N_train, input_dim]``.
    For regression the network is fitted to ``(y - y_mean) / y_std`` with ``y_mean``,
    ``y_std`` taken over the whole training draw; metrics are computed on the
    original scale.
    """

    kind: str
    y_mean: float = 0.0
    y_std: float = 1.0

    @classmethod
    def from_draws(cls, kind: str, train: Draw, val: Draw, test: Draw) -> Data:
        if kind != "regression":
            return cls(*train, *val, *test, kind=kind)
        y = train[1].double()  # float64: a target's square may overflow float32
        y_std = y.std().item()
        return cls(*train, *val, *test, kind=kind, y_mean=y.mean().item(),
                   y_std=y_std if y_std > 0 else 1.0)

    def to(self, device: torch.device) -> Data:
        """The same draws on ``device`` (the draws are made on the CPU, so every device
        sees the same data)."""
        return replace(self, **{f: getattr(self, f).to(device) for f in
                                ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test")})

    def target(self, y: torch.Tensor) -> torch.Tensor:
        """Targets in the units the loss sees."""
        return (y - self.y_mean) / self.y_std if self.kind == "regression" else y


@dataclass
class GroupResult:
    """Per-member outcomes, numpy arrays of length ``members``.

    ``train_loss`` / ``val_loss`` / ``test_loss``: the loss (MSE on standardised
    targets, or cross-entropy) on the member's own training set / the validation /
    the test draw; ``val_metric``, ``test_metric``: relative MSE ``MSE / Var(y)`` or
    error rate. ``curve`` ``[members, len(curve_steps)]``: the mean minibatch loss over
    the steps since the previous checkpoint of ``curve_steps``
    (:func:`depthbench.schedule.checkpoints`); ``converged`` by
    :func:`depthbench.schedule.converged`. ``steps``: steps completed before the loss
    first became non-finite.
    """

    train_loss: np.ndarray
    val_loss: np.ndarray
    val_metric: np.ndarray
    test_loss: np.ndarray
    test_metric: np.ndarray
    curve: np.ndarray
    curve_steps: list[int]
    converged: np.ndarray
    steps: np.ndarray
    diverged: np.ndarray
    train_time_s: float
    eval_time_s: float


def member_bytes(n_params: int, n_hidden: int, input_dim: int, batch_size: int) -> int:
    """Training memory of one member, float32: the parameters, their gradients and
    two Adam moments (4 n_params), and per sample the input and about four tensors
    per hidden unit (pre-activation, activation and their gradients)."""
    return 4 * (4 * n_params + batch_size * (input_dim + 4 * n_hidden))


def chunks(items: Sequence, per_member: int, memory_bytes: int, cap: int | None = None) -> list:
    """Split ``items`` (a group's members) into consecutive chunks that each fit
    ``memory_bytes`` at ``per_member`` bytes a member and hold at most ``cap``; a
    chunk holds at least one member, even one larger than ``memory_bytes``."""
    size = max(1, memory_bytes // max(1, per_member))
    if cap is not None:
        size = min(size, cap)
    return [items[i : i + size] for i in range(0, len(items), size)]


def per_member_loss(kind: str, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``pred`` ``[K, B, out]``, ``target`` ``[K, B]`` or ``[B]`` -> per-sample loss ``[K, B]``."""
    if kind == "regression":
        return (pred.squeeze(-1) - target).square()
    K, B, C = pred.shape
    return F.cross_entropy(
        pred.reshape(K * B, C), target.expand(K, B).reshape(K * B), reduction="none"
    ).view(K, B)


def minibatch_indices(
    generators: Sequence[torch.Generator], n_train: Sequence[int], steps: int, batch_size: int
) -> torch.Tensor:
    """Indices ``[K, steps, batch_size]``; member ``k`` draws from its own generator."""
    return torch.stack(
        [torch.randint(n, (steps, batch_size), generator=g) for g, n in zip(generators, n_train)]
    )


def train_group(
    model: torch.nn.Module,
    data: Data,
    members: Sequence[Member],
    steps: int,
    batch_size: int,
    schedule: Schedule = Schedule(),
    on_steps: Callable[[int], None] = lambda n: None,
    cuda_graph: bool = False,
    online: Sampler | None = None,
) -> GroupResult:
    """Train ``model`` (``members`` stacked, already initialised) with BatchedAdam.

    Minibatches are drawn from each member's first ``n_train`` training rows, or, for
    a group of online members (``n_train = 0``), fresh from ``online(num_samples,
    seed, step)``, a block of :data:`INDEX_BLOCK` steps at a time on the CPU; their
    ``train_loss`` is then the mean minibatch loss over the last tenth of the steps
    (fresh samples: an estimate of the population loss).

    Step ``t`` uses each member's learning rate times ``schedule.factors(steps)[t]``.
    A member whose training loss becomes NaN/inf is reported ``diverged``; being
    independent, the others go on. ``on_steps(n)`` is called as steps complete.
    On CUDA the optimiser keeps its step count on the device, and ``cuda_graph``
    replays each step as one captured CUDA graph (:class:`GraphedStep`) instead of
    launching its kernels one by one from Python; both give the same numbers. The
    schedule's factor and the loss record live on the device, so neither reads a
    value back to the host inside the loop.
    """
    device = data.x_train.device
    on_cuda = device.type == "cuda"
    K = len(members)
    optimizer = BatchedAdam(
        model.parameters(), torch.tensor([m.lr for m in members], dtype=torch.float32, device=device),
        capturable=on_cuda,
    )
    factors = schedule.factors(steps).to(device)
    generators = [torch.Generator().manual_seed(derive_seed(m.seed, "minibatch")) for m in members]
    n_train = [m.n_train for m in members]
    fresh = [n == ONLINE for n in n_train]
    if (online is not None) != any(fresh) or any(fresh) != all(fresh):
        raise ValueError("a group is either all online members (with a sampler) or none")
    y_train = data.target(data.y_train)
    finite = torch.ones(K, dtype=torch.bool, device=device)
    steps_done = torch.zeros(K, dtype=torch.int64, device=device)  # steps before the first non-finite loss
    loss_sum = torch.zeros(K, device=device)  # minibatch losses since the last checkpoint
    marks = checkpoints(steps)
    curve = torch.zeros(K, len(marks), device=device)

    def step(x: torch.Tensor, y: torch.Tensor) -> None:
        """One step on minibatch ``x`` ``[K, B, input_dim]``, ``y`` ``[K, B]`` (targets in
        the loss's units); gradients are left in ``.grad``."""
        loss = per_member_loss(data.kind, model(x), y).mean(1)
        loss.sum().backward()
        optimizer.step()
        finite.logical_and_(torch.isfinite(loss))
        steps_done.add_(finite)
        loss_sum.add_(loss.detach())

    def indexed(batch: torch.Tensor) -> None:
        """One step on minibatch indices ``batch`` ``[K, B]`` into the training draw."""
        step(data.x_train[batch], y_train[batch])

    def block_inputs(block_start: int, block: int) -> list[torch.Tensor]:
        """The block's minibatches: indices ``[K, block, B]``, or online samples
        ``x`` ``[K, block, B, input_dim]`` and ``y`` ``[K, block, B]``."""
        if online is None:
            return [minibatch_indices(generators, n_train, block, batch_size)]
        drawn = [online(block * batch_size, m.seed, block_start) for m in members]
        x = torch.stack([d[0] for d in drawn]).view(K, block, batch_size, -1)
        y = data.target(torch.stack([d[1] for d in drawn])).view(K, block, batch_size)
        return [x, y]

    fn = indexed if online is None else step
    run = GraphedStep(fn, optimizer.zero_grad) if on_cuda and cuda_graph else None
    mark, previous = 0, 0
    start = time.perf_counter()
    for block_start in range(0, steps, INDEX_BLOCK):
        block = min(INDEX_BLOCK, steps - block_start)
        # from pinned memory the copy is asynchronous: the host never waits for the GPU
        inputs = [(t.pin_memory() if on_cuda else t).to(device, non_blocking=on_cuda)
                  for t in block_inputs(block_start, block)]
        for t in range(block):
            optimizer.scale.copy_(factors[block_start + t])
            now = [i[:, t] for i in inputs]
            if run is not None:
                run(*now)
            else:
                fn(*now)
                optimizer.zero_grad()
            done = block_start + t + 1
            if done == marks[mark]:
                curve[:, mark] = loss_sum / (done - previous)
                loss_sum.zero_()
                mark, previous = mark + 1, done
        on_steps(block)
    if on_cuda:
        torch.cuda.synchronize(device)
    train_time = time.perf_counter() - start

    start = time.perf_counter()
    record = curve.cpu().numpy()
    train_loss = (record[:, -1].astype(np.float64) if online is not None else
                  evaluate(model, data, data.x_train, data.y_train, n_train)[0])
    val_loss, val_metric = evaluate(model, data, data.x_val, data.y_val, [len(data.y_val)] * K)
    test_loss, test_metric = evaluate(model, data, data.x_test, data.y_test, [len(data.y_test)] * K)
    eval_time = time.perf_counter() - start

    diverged = ~finite.cpu().numpy()  # a non-finite training loss, and nothing else
    return GroupResult(
        train_loss=train_loss,
        val_loss=val_loss,
        val_metric=val_metric,
        test_loss=test_loss,
        test_metric=test_metric,
        curve=record,
        curve_steps=marks,
        converged=converged(record, diverged),
        steps=steps_done.cpu().numpy(),
        diverged=diverged,
        train_time_s=train_time,
        eval_time_s=eval_time,
    )


class GraphedStep:
    """A training step replayed as a CUDA graph (PyTorch's "whole-network capture").

    The first :attr:`WARMUP` calls run eagerly on a side stream, as capture requires
    (they are real steps: gradients are cleared after each); the next call captures
    ``step`` on static copies of its inputs (minibatch indices ``[K, B]``, or online
    samples) with the gradients unset, so that
    backward allocates them in the graph's memory pool; that call and every later one
    copy their indices into the buffer and replay the graph. Between replays the
    gradients are overwritten, never accumulated, as in the eager loop.
    """

    WARMUP = 3

    def __init__(self, step: Callable[..., None], zero_grad: Callable[[], None]) -> None:
        self.step, self.zero_grad = step, zero_grad
        self.calls = 0
        self.side: torch.cuda.Stream | None = None
        self.graph: torch.cuda.CUDAGraph | None = None
        self.inputs: list[torch.Tensor] = []

    def __call__(self, *inputs: torch.Tensor) -> None:
        self.calls += 1
        device = inputs[0].device
        if self.calls <= self.WARMUP:
            self.side = self.side or torch.cuda.Stream(device)
            self.side.wait_stream(torch.cuda.current_stream(device))
            with torch.cuda.stream(self.side):
                self.step(*inputs)
                self.zero_grad()
            torch.cuda.current_stream(device).wait_stream(self.side)
            return
        if self.graph is None:
            self.inputs = [i.clone() for i in inputs]
            self.graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(self.graph):
                self.step(*self.inputs)
        else:
            for static, i in zip(self.inputs, inputs):
                static.copy_(i)
        self.graph.replay()


@torch.no_grad()
def evaluate(
    model: torch.nn.Module, data: Data, x: torch.Tensor, y: torch.Tensor, limits: Sequence[int]
) -> tuple[np.ndarray, np.ndarray]:
    """Mean loss and test metric per member over the first ``limits[k]`` rows of ``x``.

    ``x`` ``[N, input_dim]`` is shared by all members and evaluated in chunks of
    about :data:`EVAL_ELEMENTS` hidden activations (``model.n_hidden`` per sample).
    Returns ``(loss [K], metric [K])``: metric is ``MSE / Var(y)`` on the original
    scale (SCIENCE.md, "test_metric") or the error rate.
    """
    K = len(limits)
    n = max(limits)
    chunk = max(1, EVAL_ELEMENTS // (K * model.n_hidden))
    limit = torch.tensor(limits, device=x.device).unsqueeze(1)  # [K, 1]
    loss_sum = torch.zeros(K, dtype=torch.float64, device=x.device)
    err_sum = torch.zeros(K, dtype=torch.float64, device=x.device)
    for lo in range(0, n, chunk):
        xs, ys = x[lo : lo + chunk], y[lo : lo + chunk]
        inside = torch.arange(lo, lo + len(ys), device=x.device) < limit  # [K, chunk]
        pred = model(xs)  # [K, chunk, out]
        loss = per_member_loss(data.kind, pred, data.target(ys))
        if data.kind == "regression":  # float64: errors of large targets overflow float32
            err = (pred.squeeze(-1).double() * data.y_std + data.y_mean - ys.double()).square()
        else:
            err = (pred.argmax(-1) != ys).to(pred.dtype)
        loss_sum += torch.where(inside, loss, 0).sum(1, dtype=torch.float64)
        err_sum += torch.where(inside, err, 0).sum(1, dtype=torch.float64)
    counts = limit.squeeze(1).to(torch.float64)
    mean_loss, mean_err = loss_sum / counts, err_sum / counts
    if data.kind == "regression":
        y64 = y.to(torch.float64)
        var = {m: y64[:m].var(unbiased=False) for m in set(limits)}
        mean_err = mean_err / torch.stack([var[m] for m in limits])
    return mean_loss.cpu().numpy(), mean_err.cpu().numpy()

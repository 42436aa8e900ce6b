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

from depthbench import metrics
from depthbench.config import ONLINE
from depthbench.draws import Draw, Split
from depthbench.models.base import BatchedModel
from depthbench.optim import Optimizer
from depthbench.schedule import Schedule, checkpoints, converged
from depthbench.seeding import derive_seed, generator

INDEX_BLOCK = 64  # minibatch indices are drawn this many steps at a time
EVAL_ELEMENTS = 1 << 24  # activations held at once during evaluation
Sampler = Callable[[int, int, int], Draw]  # (num_samples, member seed, step) -> fresh draw


@dataclass(frozen=True)
class Member:
    """One model of a group: its seed, learning rate and training-set size."""

    seed: int
    lr: float
    n_train: int


@dataclass(frozen=True)
class Block:
    """The rows of ``Data.x_train`` that members with ``n_train`` train on:
    ``[start, start + size)``, with the mean and standard deviation of their targets
    (regression: the network fits ``(y - y_mean) / y_std``; 0 and 1 otherwise). An
    online block (``n_train = 0``) gives the statistics of a draw, not training rows."""

    n_train: int
    start: int
    size: int
    y_mean: float = 0.0
    y_std: float = 1.0


@dataclass(frozen=True)
class Data(Split):
    """A task's draws (:class:`~depthbench.draws.Split`), on the training device.

    ``x_train`` ``[N, input_dim]`` concatenates one training draw per ``n_train`` of the
    grid (``blocks``): each size is drawn and standardised on its own, so a member's
    data do not depend on which other sizes the grid holds. Metrics are computed on the
    original scale.
    """

    kind: str
    blocks: tuple[Block, ...] = ()

    @classmethod
    def from_draws(cls, kind: str, train: Draw, val: Draw, test: Draw) -> Data:
        """One training draw; members may use any prefix of it (its statistics)."""
        return cls.from_blocks(kind, {len(train[1]): train}, val, test)

    @classmethod
    def from_blocks(cls, kind: str, trains: dict[int, Draw], val: Draw, test: Draw) -> Data:
        """Training draws by ``n_train`` (0: online, a draw for statistics only)."""
        blocks, start = [], 0
        for n, (_, y) in trains.items():
            y64 = y.double()  # float64: a target's square may overflow float32
            std = y64.std().item() if kind == "regression" and len(y) > 1 else 1.0
            mean = y64.mean().item() if kind == "regression" else 0.0
            blocks.append(Block(n, start, len(y), mean, std if std > 0 else 1.0))
            start += len(y)
        x = torch.cat([t[0] for t in trains.values()])
        y = torch.cat([t[1] for t in trains.values()])
        return cls(x, y, *val, *test, kind=kind, blocks=tuple(blocks))

    def block(self, n_train: int) -> Block:
        """The block members with ``n_train`` use: the draw of that size, or, in data of
        one draw, its first ``n_train`` rows (online members: its statistics)."""
        for b in self.blocks:
            if b.n_train == n_train:
                return b
        if len(self.blocks) == 1 and n_train == 0:  # online: the one draw's statistics
            return self.blocks[0]
        if len(self.blocks) == 1 and 0 < n_train <= self.blocks[0].size:
            return replace(self.blocks[0], n_train=n_train, size=n_train)
        raise ValueError(
            f"no training draw for n_train={n_train} (drawn: {[b.n_train for b in self.blocks]})"
        )

    def to(self, device: torch.device) -> Data:
        """The same draws on ``device`` (the draws are made on the CPU, so every device
        sees the same data)."""
        return replace(
            self,
            **{
                f: getattr(self, f).to(device)
                for f in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test")
            },
        )


@dataclass(frozen=True)
class Scale:
    """Per-member target statistics, ``[K]`` tensors: targets in the loss's units are
    ``(y - mean) / std`` (regression) or ``y``."""

    kind: str
    mean: torch.Tensor
    std: torch.Tensor

    @classmethod
    def of(cls, kind: str, blocks: Sequence[Block], device: torch.device) -> Scale:
        stats = torch.tensor([[b.y_mean, b.y_std] for b in blocks], dtype=torch.float64)
        return cls(kind, stats[:, 0].to(device), stats[:, 1].to(device))

    def target(self, y: torch.Tensor) -> torch.Tensor:
        """``y`` ``[N]`` or ``[K, N]`` -> ``[K, N]`` in the loss's units: float32
        ``(y - mean) / std`` (regression), or the labels (a view, for classification)."""
        if self.kind != "regression":
            return y.expand(len(self.mean), -1) if y.dim() == 1 else y
        return ((y.double() - self.mean.view(-1, 1)) / self.std.view(-1, 1)).float()

    def original(self, pred: torch.Tensor) -> torch.Tensor:
        """Predictions ``[K, N]`` in the loss's units -> the targets' scale, float64."""
        return pred.double() * self.std.unsqueeze(1) + self.mean.unsqueeze(1)


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
    """Training memory of one member, float32: the parameters, their gradients, two Adam
    moments and the optimiser's two temporaries (6 n_params), and per sample the input
    and about four tensors per hidden unit (pre-activation, activation and their
    gradients)."""
    return 4 * (6 * n_params + batch_size * (input_dim + 4 * n_hidden))


def train_flops(n_params: float, samples: float) -> float:
    """Training FLOPs of a dense network with ``n_params`` parameters over ``samples``
    samples (batch x steps): 2 per parameter and sample forward, 4 backward; exact for
    integers, and elementwise on arrays and columns."""
    return 6 * n_params * samples


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


def constant_loss(kind: str, y: torch.Tensor) -> float:
    """The loss of the best constant prediction on targets ``y`` ``[N]``, in the loss's
    units: 1 for regression (predicting the mean of standardised targets), the entropy
    of the label frequencies for classification (predicting them)."""
    if kind == "regression":
        return 1.0
    p = torch.bincount(y.long()).double() / len(y)
    return float(-(p[p > 0] * p[p > 0].log()).sum())


def minibatch_indices(
    generators: Sequence[torch.Generator], n_train: Sequence[int], steps: int, batch_size: int
) -> torch.Tensor:
    """Indices ``[K, steps, batch_size]``; member ``k`` draws from its own generator."""
    return torch.stack(
        [torch.randint(n, (steps, batch_size), generator=g) for g, n in zip(generators, n_train)]
    )


def train_group(
    model: BatchedModel,
    data: Data,
    members: Sequence[Member],
    steps: int,
    batch_size: int,
    schedule: Schedule = Schedule(),
    on_steps: Callable[[int], None] = lambda n: None,
    cuda_graph: bool = False,
    online: Sampler | None = None,
    optimizer_spec: Optimizer = Optimizer(),
) -> GroupResult:
    """Train ``model`` (``members`` stacked, already initialised) with the batched
    optimiser of ``optimizer_spec`` (Adam by default).

    Minibatches are drawn from each member's first ``n_train`` training rows, or, for
    a group of online members (``n_train = 0``), fresh from ``online(num_samples,
    seed, step)``, a block of :data:`INDEX_BLOCK` steps at a time on the CPU; their
    ``train_loss`` is then the mean minibatch loss over the last tenth of the steps
    (fresh samples: an estimate of the population loss).

    Step ``t`` uses each member's learning rate times ``schedule.factors(steps)[t]``.
    A member whose training loss becomes NaN/inf is reported ``diverged``; being
    independent, the others go on. With ``optimizer_spec.stop_loss``, a member whose
    mean minibatch loss over a block of :data:`INDEX_BLOCK` steps is below it stops
    moving (its optimiser gate closes); its ``steps`` count the steps it took.
    ``on_steps(n)`` is called as steps complete.
    On CUDA the optimiser keeps its step count on the device, and ``cuda_graph``
    replays each step as one captured CUDA graph (:class:`GraphedStep`) instead of
    launching its kernels one by one from Python; both give the same numbers. The
    schedule's factor and the loss record live on the device, so neither reads a
    value back to the host inside the loop.
    """
    device = data.x_train.device
    on_cuda = device.type == "cuda"
    K = len(members)
    optimizer = optimizer_spec.build(
        model.parameters(),
        torch.tensor([m.lr for m in members], dtype=torch.float32, device=device),
        capturable=on_cuda,
    )
    stop = optimizer_spec.stop_loss
    factors = schedule.factors(steps).to(device)
    generators = [generator(derive_seed(m.seed, "minibatch")) for m in members]
    n_train = [m.n_train for m in members]
    fresh = [n == ONLINE for n in n_train]
    if (online is not None) != any(fresh) or any(fresh) != all(fresh):
        raise ValueError("a group is either all online members (with a sampler) or none")
    blocks = [data.block(n) for n in n_train]
    scale = Scale.of(data.kind, blocks, device)
    host_scale = Scale.of(data.kind, blocks, torch.device("cpu"))  # for online samples
    offsets = torch.tensor([b.start for b in blocks]).view(K, 1, 1)
    y_target = scale.target(data.y_train)  # [K, N]: each member's targets in its own units
    members_k = torch.arange(K, device=device).unsqueeze(1)  # [K, 1]
    finite = torch.ones(K, dtype=torch.bool, device=device)
    steps_done = torch.zeros(
        K, dtype=torch.int64, device=device
    )  # steps before the first non-finite loss
    loss_sum = torch.zeros(K, device=device)  # minibatch losses since the last checkpoint
    block_sum = torch.zeros(K, device=device)  # minibatch losses of the current block
    marks = checkpoints(steps)
    curve = torch.zeros(K, len(marks), device=device)

    def step(x: torch.Tensor, y: torch.Tensor) -> None:
        """One step on minibatch ``x`` ``[K, B, input_dim]``, ``y`` ``[K, B]`` (targets in
        the loss's units); gradients are left in ``.grad``."""
        loss = per_member_loss(data.kind, model(x), y).mean(1)
        loss.sum().backward()
        optimizer.step()
        finite.logical_and_(torch.isfinite(loss))
        steps_done.add_(finite & (optimizer.gate > 0))
        loss_sum.add_(loss.detach())
        block_sum.add_(loss.detach())

    def indexed(batch: torch.Tensor) -> None:
        """One step on minibatch indices ``batch`` ``[K, B]`` into the training draws."""
        step(data.x_train[batch], y_target[members_k, batch])

    def block_inputs(block_start: int, block: int) -> list[torch.Tensor]:
        """The block's minibatches: indices ``[K, block, B]``, or online samples
        ``x`` ``[K, block, B, input_dim]`` and ``y`` ``[K, block, B]``."""
        if online is None:
            sizes = [b.size for b in blocks]
            return [minibatch_indices(generators, sizes, block, batch_size) + offsets]
        drawn = [online(block * batch_size, m.seed, block_start) for m in members]
        x = torch.stack([d[0] for d in drawn]).view(K, block, batch_size, -1)
        y = host_scale.target(torch.stack([d[1] for d in drawn]))
        return [x, y.view(K, block, batch_size)]

    fn = indexed if online is None else step
    run = GraphedStep(fn, optimizer.zero_grad) if on_cuda and cuda_graph else None
    mark, previous = 0, 0
    start = time.perf_counter()
    for block_start in range(0, steps, INDEX_BLOCK):
        block = min(INDEX_BLOCK, steps - block_start)
        # from pinned memory the copy is asynchronous: the host never waits for the GPU
        inputs = [
            (t.pin_memory() if on_cuda else t).to(device, non_blocking=on_cuda)
            for t in block_inputs(block_start, block)
        ]
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
        if stop is not None:  # on the device: no value read back to the host
            optimizer.gate.mul_(block_sum / block >= stop)
        block_sum.zero_()
        on_steps(block)
    if on_cuda:
        torch.cuda.synchronize(device)
    return _scored(
        model,
        data,
        (scale, blocks),
        (curve.cpu().numpy(), marks),
        online is not None,
        finite.cpu().numpy(),
        steps_done.cpu().numpy(),
        time.perf_counter() - start,
    )


def _scored(
    model: BatchedModel,
    data: Data,
    units: tuple[Scale, Sequence[Block]],
    record: tuple[np.ndarray, list[int]],
    online: bool,
    finite: np.ndarray,
    steps: np.ndarray,
    train_time: float,
) -> GroupResult:
    """The :class:`GroupResult` of a trained group: ``units`` (its target scale and
    training blocks), ``record`` (its loss curve ``[K, P]`` and checkpoint steps),
    ``finite`` and ``steps`` ``[K]`` (no non-finite loss yet; steps taken)."""
    scale, blocks = units
    curve, marks = record
    K = len(blocks)
    start = time.perf_counter()
    train_loss = (
        curve[:, -1].astype(np.float64)
        if online
        else evaluate(
            model, scale, data.x_train, data.y_train, [(b.start, b.size) for b in blocks]
        )[0]
    )
    whole = [(0, len(data.y_val))] * K
    val_loss, val_metric = evaluate(model, scale, data.x_val, data.y_val, whole)
    whole = [(0, len(data.y_test))] * K
    test_loss, test_metric = evaluate(model, scale, data.x_test, data.y_test, whole)
    eval_time = time.perf_counter() - start
    # a non-finite training loss, or weights that became non-finite in the last step
    # (metrics are float64: a large target no longer overflows them)
    diverged = ~finite | ~np.isfinite(val_metric) | ~np.isfinite(test_metric)
    chance = [constant_loss(data.kind, data.y_train[b.start : b.start + b.size]) for b in blocks]
    return GroupResult(
        train_loss=train_loss,
        val_loss=val_loss,
        val_metric=val_metric,
        test_loss=test_loss,
        test_metric=test_metric,
        curve=curve,
        curve_steps=marks,
        converged=converged(curve, diverged, np.array(chance)),
        steps=steps,
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
    model: BatchedModel,
    scale: Scale,
    x: torch.Tensor,
    y: torch.Tensor,
    rows: Sequence[tuple[int, int]],
) -> tuple[np.ndarray, np.ndarray]:
    """Mean loss and metric per member over its ``rows[k] = (start, size)`` of ``x``.

    ``x`` ``[N, input_dim]`` is shared by all members and evaluated in chunks of
    about :data:`EVAL_ELEMENTS` hidden activations (``model.n_hidden`` per sample),
    over the span of rows any member uses. Returns ``(loss [K], metric [K])``: loss in
    each member's units (:class:`Scale`), metric ``MSE / Var(y)`` of the member's rows
    on the original scale in float64 (docs/science.md, "Test metric") or the error rate.
    """
    K = len(rows)
    lo_row, hi_row = min(s for s, _ in rows), max(s + n for s, n in rows)
    chunk = max(1, EVAL_ELEMENTS // (K * model.n_hidden))
    first = torch.tensor([s for s, _ in rows], device=x.device).unsqueeze(1)  # [K, 1]
    end = first + torch.tensor([n for _, n in rows], device=x.device).unsqueeze(1)
    loss_sum = torch.zeros(K, dtype=torch.float64, device=x.device)
    err_sum = torch.zeros(K, dtype=torch.float64, device=x.device)
    for lo in range(lo_row, hi_row, chunk):
        xs, ys = x[lo : min(lo + chunk, hi_row)], y[lo : min(lo + chunk, hi_row)]
        at = torch.arange(lo, lo + len(ys), device=x.device)
        inside = (at >= first) & (at < end)  # [K, chunk]
        out = model(xs)  # [K, chunk, out]
        loss = per_member_loss(scale.kind, out, scale.target(ys))
        pred = metrics.predictions(scale.kind, out)  # [K, chunk]
        if scale.kind == "regression":  # back to the targets' scale, float64
            pred = scale.original(pred)
        err = metrics.errors(scale.kind, pred, ys)
        loss_sum += torch.where(inside, loss, 0).sum(1, dtype=torch.float64)
        err_sum += torch.where(inside, err, 0).sum(1, dtype=torch.float64)
    counts = (end - first).squeeze(1).to(torch.float64)
    mean_loss, mean_err = loss_sum / counts, err_sum / counts
    norm = {r: metrics.normaliser(scale.kind, y[r[0] : r[0] + r[1]]) for r in set(rows)}
    mean_err = mean_err / torch.stack([norm[r] for r in rows])
    return mean_loss.cpu().numpy(), mean_err.cpu().numpy()

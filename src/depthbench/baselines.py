"""Baselines: models built and evaluated like constructions, with every
hyper-parameter chosen on a validation split; the test split gives only the
reported number.

- :func:`linear`: ridge regression on the raw inputs (a ridge classifier for
  classification: least squares on one-hot targets).
- :func:`random_features`: a one-hidden-layer network whose hidden layer is random
  and untrained, with a ridge-fitted read-out.
- :func:`rule`: a fixed rule a task declares (:meth:`depthbench.tasks.Task.rules`),
  nothing fitted.

Ridge strengths are relative: ``ridge * mean(diag(G))`` is added to the diagonal of
the centred Gram matrix ``G = Hc^T Hc`` of the features, so a strength means the same
whatever the scale of the features. The linear algebra runs in float64 on the CPU,
on one thread (:func:`one_thread`): BLAS sums in an order that depends on the thread
count, which moved the fitted numbers by up to 1e-7 relative between machines.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

import torch
import torch.nn.functional as F

from depthbench import metrics
from depthbench.draws import Split
from depthbench.models import ACTIVATIONS
from depthbench.seeding import generator

RIDGES = tuple(torch.logspace(-8, 3, 23, dtype=torch.float64).tolist())  # relative, half-decades
GAINS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)  # random-feature input scales
KINDS = ("regression", "classification")
EVAL_ROWS = 4096  # samples evaluated at once: bounds the [rows, width] float64 features held

Features = Callable[[torch.Tensor], torch.Tensor]  # x [N, input_dim] -> float64 [N, p]
Predict = Callable[[torch.Tensor], torch.Tensor]  # x [N, input_dim] -> predictions [N]
P = ParamSpec("P")
R = TypeVar("R")


def one_thread(fit: Callable[P, R]) -> Callable[P, R]:
    """``fit`` run with torch on one CPU thread (the caller's count restored after), so
    its numbers do not depend on how many threads the machine or job has."""

    @functools.wraps(fit)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        before = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return fit(*args, **kwargs)
        finally:
            torch.set_num_threads(before)

    return run


@dataclass(frozen=True)
class Fitted:
    """A baseline and its scores on the three splits.

    ``n_params`` counts every parameter of the model, the random hidden layer
    included: ``(n+1) w + (w+1) o`` for random features (a one-hidden-layer MLP's
    count), ``(n+1) o`` for linear, 0 for rules. ``*_loss``: regression MSE on targets
    standardised by the training mean/std (the trained networks' loss), ``nan`` for
    classification. ``*_metric``: relative MSE ``MSE / Var(y)`` of that split, or the
    error rate.
    """

    name: str  # "linear", "random_features", or a task rule name such as "majority"
    width: int | None  # hidden units of random features; None otherwise
    n_hidden: int  # hidden units (0 for linear and rules)
    n_params: int
    ridge: float  # relative ridge strength chosen on validation (nan for rules)
    gain: float  # random-feature input scale chosen on validation (nan otherwise)
    train_loss: float
    val_loss: float
    test_loss: float
    train_metric: float
    val_metric: float
    test_metric: float


@one_thread
def linear(split: Split, kind: str, n_classes: int, *, ridges: Sequence[float] = RIDGES) -> Fitted:
    """Ridge regression on the raw inputs ``x`` ``[N, n]`` with an unpenalised intercept.

    For classification this is a ridge classifier: least squares on one-hot targets
    ``[N, n_classes]`` (not logistic regression), predicting the argmax. The relative
    ridge strength is the one of ``ridges`` with the lowest validation metric (ties go
    to the larger ridge).
    """
    outputs = _outputs(kind, n_classes)
    gain, ridge, predict = _select(split, kind, n_classes, {math.nan: torch.Tensor.double}, ridges)
    n = split.x_train.shape[1]
    return _fitted(
        "linear",
        kind,
        split,
        predict,
        width=None,
        n_hidden=0,
        n_params=(n + 1) * outputs,
        ridge=ridge,
        gain=gain,
    )


@one_thread
def random_features(
    split: Split,
    kind: str,
    n_classes: int,
    width: int,
    activation: str = "silu",
    seed: int = 0,
    *,
    gains: Sequence[float] = GAINS,
    ridges: Sequence[float] = RIDGES,
) -> Fitted:
    """A one-hidden-layer network with a random, untrained hidden layer of ``width``
    units and a ridge-fitted linear read-out (one-hot least squares for classification).

    Inputs are standardised per feature by the training mean/std (a constant feature
    keeps std 1); the hidden layer computes ``act(gain * (x_std @ W / sqrt(n) + b))``
    with ``W`` ``[n, width]`` and ``b`` ``[width]`` i.i.d. N(0, 1) from a generator
    seeded with ``seed``, so the same seed gives the same features. The pair
    ``(gain, ridge)`` from ``gains`` x ``ridges`` with the lowest validation metric is
    kept (ties go to the first gain, then the larger ridge).
    """
    if width < 1:
        raise ValueError(f"width must be >= 1, got {width}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}, got {activation!r}")
    outputs = _outputs(kind, n_classes)
    n = split.x_train.shape[1]
    g = generator(seed)
    w = torch.randn(n, width, generator=g, dtype=torch.float64) / math.sqrt(n)
    b = torch.randn(width, generator=g, dtype=torch.float64)
    x_train = split.x_train.double()
    mean, std = x_train.mean(0), x_train.std(0)
    std = torch.where(std > 0, std, torch.ones_like(std))
    act = ACTIVATIONS[activation]

    def features(gain: float) -> Features:
        return lambda x: act(gain * (((x.double() - mean) / std) @ w + b))

    gain, ridge, predict = _select(split, kind, n_classes, {c: features(c) for c in gains}, ridges)
    return _fitted(
        "random_features",
        kind,
        split,
        predict,
        width=width,
        n_hidden=width,
        n_params=(n + 1) * width + (width + 1) * outputs,
        ridge=ridge,
        gain=gain,
    )


@one_thread
def rule(split: Split, name: str, predict: Predict, kind: str) -> Fitted:
    """A fixed rule ``predict`` (``x`` ``[N, input_dim]`` -> class labels int64 ``[N]``
    or values ``[N]``) scored on the three splits; nothing is fitted."""
    _outputs(kind, 2)
    return _fitted(
        name,
        kind,
        split,
        predict,
        width=None,
        n_hidden=0,
        n_params=0,
        ridge=math.nan,
        gain=math.nan,
    )


def scores(
    kind: str, pred: torch.Tensor, y: torch.Tensor, y_std: float = 1.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(loss, metric)`` float64 ``[...]`` of predictions ``pred`` ``[..., N]`` (values or
    class labels) against ``y`` ``[N]``.

    Regression: loss is the MSE on targets standardised by ``y_std`` (the training
    std), metric ``MSE / Var(y)`` with the population variance of ``y``.
    Classification: loss ``nan``, metric the error rate. The metric is
    :func:`depthbench.metrics.test_metric` (docs/science.md, "Test metric").
    """
    error = metrics.errors(kind, pred, y).mean(-1)
    loss = error / y_std**2 if kind == "regression" else torch.full_like(error, math.nan)
    return loss, error / metrics.normaliser(kind, y)


def _outputs(kind: str, n_classes: int) -> int:
    """Read-out width: 1 for regression, ``n_classes`` (>= 2) for classification."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if kind == "classification" and n_classes < 2:
        raise ValueError(f"n_classes must be >= 2 for classification, got {n_classes}")
    return 1 if kind == "regression" else n_classes


def _target_scale(kind: str, y_train: torch.Tensor) -> tuple[float, float]:
    """``(mean, std)`` of the training targets, as the trainer standardises them
    (std 0 -> 1); ``(0, 1)`` for classification."""
    if kind != "regression":
        return 0.0, 1.0
    std = y_train.double().std().item()
    return y_train.double().mean().item(), std if std > 0 else 1.0


def ridge_path(h: torch.Tensor, t: torch.Tensor, ridges: Sequence[float]) -> Features:
    """Ridge read-outs from features ``h`` float64 ``[N, p]`` to targets ``t`` float64
    ``[N, o]``, one per relative strength in ``ridges`` (``R`` of them), each with an
    unpenalised intercept; returns ``h'`` ``[M, p]`` -> outputs ``[R, M, o]``.

    With ``Hc``, ``Tc`` centred by their training means, read-out ``r`` solves
    ``(G + r m I) W = Hc^T Tc``, ``G = Hc^T Hc``, ``m = mean(diag G)``. One
    eigendecomposition serves every ``r``: of ``G = V diag(e) V^T`` (``p <= N``),
    ``W = V diag(1 / (e + r m)) V^T Hc^T Tc``, or of the smaller ``Hc Hc^T = U diag(e) U^T``
    (``p > N``), ``W = Hc^T U diag(1 / (e + r m)) U^T Tc``: the same read-out.
    """
    h_mean, t_mean = h.mean(0), t.mean(0)
    hc, tc = h - h_mean, t - t_mean
    if hc.shape[1] <= hc.shape[0]:
        e, basis = torch.linalg.eigh(hc.T @ hc)  # basis [p, p]
        proj = basis.T @ (hc.T @ tc)  # [p, o]
    else:
        e, u = torch.linalg.eigh(hc @ hc.T)
        basis, proj = hc.T @ u, u.T @ tc  # [p, N], [N, o]
    m = hc.square().sum().item() / hc.shape[1]
    strengths = torch.tensor(ridges, dtype=torch.float64) * (m if m > 0 else 1.0)
    coef = proj / (e.clamp(min=0) + strengths[:, None]).unsqueeze(-1)  # [R, k, o]
    return lambda x: ((x - h_mean) @ basis) @ coef + t_mean


def _select(
    split: Split,
    kind: str,
    n_classes: int,
    features: dict[float, Features],
    ridges: Sequence[float],
) -> tuple[float, float, Predict]:
    """The ``(gain, ridge, predict)`` whose ridge read-out of ``features[gain]`` has the
    lowest validation metric (non-finite counts as +inf; ties to the first gain, then
    the larger ridge). ``predict`` maps ``x`` ``[N, input_dim]`` to predictions ``[N]``."""
    y_mean, y_std = _target_scale(kind, split.y_train)
    if kind == "regression":
        t = ((split.y_train.double() - y_mean) / y_std).unsqueeze(1)
    else:
        t = F.one_hot(split.y_train, n_classes).double()

    def decode(out: torch.Tensor) -> torch.Tensor:
        """Read-out outputs ``[..., N, o]`` -> predictions ``[..., N]``."""
        return out[..., 0] * y_std + y_mean if kind == "regression" else out.argmax(-1)

    def every_ridge(path: Features, feature: Features) -> Predict:
        """x -> predictions ``[R, N]`` of every read-out of ``path`` on ``feature``."""
        return lambda x: decode(path(feature(x)))

    order = sorted(range(len(ridges)), key=lambda i: -ridges[i])
    best: tuple[float, float, int, Features, Features] | None = None
    for gain, feature in features.items():
        path = ridge_path(feature(split.x_train), t, ridges)
        val_pred = _in_chunks(every_ridge(path, feature), split.x_val)  # [R, N_val]
        val = scores(kind, val_pred, split.y_val)[1].nan_to_num(math.inf)
        for i in order:
            if best is None or val[i] < best[0]:
                best = (val[i].item(), gain, i, path, feature)
    assert best is not None  # gains and ridges are not empty
    _, gain, i, path, feature = best
    return gain, ridges[i], lambda x: decode(path(feature(x))[i])


def _fitted(
    name: str,
    kind: str,
    split: Split,
    predict: Predict,
    *,
    width: int | None,
    n_hidden: int,
    n_params: int,
    ridge: float,
    gain: float,
) -> Fitted:
    """``Fitted`` with the loss and metric of ``predict`` on each split of ``split``."""
    _, y_std = _target_scale(kind, split.y_train)
    (train_loss, train_metric), (val_loss, val_metric), (test_loss, test_metric) = (
        [s.item() for s in scores(kind, _in_chunks(predict, x), y, y_std)] for x, y in split.draws()
    )
    return Fitted(
        name=name,
        width=width,
        n_hidden=n_hidden,
        n_params=n_params,
        ridge=ridge,
        gain=gain,
        train_loss=train_loss,
        val_loss=val_loss,
        test_loss=test_loss,
        train_metric=train_metric,
        val_metric=val_metric,
        test_metric=test_metric,
    )


def _in_chunks(predict: Predict, x: torch.Tensor) -> torch.Tensor:
    """``predict`` (``[M, input_dim]`` -> ``[..., M]``) applied to ``x`` ``[N, input_dim]``
    :data:`EVAL_ROWS` rows at a time -> ``[..., N]``."""
    starts = range(0, max(len(x), 1), EVAL_ROWS)
    return torch.cat([predict(x[i : i + EVAL_ROWS]) for i in starts], -1)

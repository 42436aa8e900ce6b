"""The test metric, defined once (docs/science.md, "Test metric"): relative MSE
``MSE / Var(y)`` for regression, the error rate for classification, in float64.

Trained networks (``trainer.evaluate``, in chunks), constructions and baselines all
score with these functions. ``kind`` is ``"regression"`` or ``"classification"``.
"""

from __future__ import annotations

import torch


def predictions(kind: str, out: torch.Tensor) -> torch.Tensor:
    """A network's outputs ``[..., out]`` -> predictions ``[...]``: the single output
    (regression, ``out == 1``) or the argmax class label (classification, logits)."""
    return out[..., 0] if kind == "regression" else out.argmax(-1)


def errors(kind: str, pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-sample errors, float64 ``[..., N]``, of predictions ``pred`` ``[..., N]``
    (values on the targets' scale, or class labels) against ``y`` ``[N]``: the squared
    error (float64: errors of large targets overflow float32), or 1 where the label
    is wrong."""
    if kind == "regression":
        return (pred.double() - y.double()).square()
    return (pred != y).double()


def normaliser(kind: str, y: torch.Tensor) -> torch.Tensor:
    """What the mean error of ``errors`` is divided by, a float64 scalar: the
    population variance of ``y`` ``[N]`` (regression), or 1 (classification)."""
    if kind == "regression":
        return y.double().var(unbiased=False)
    return torch.ones((), dtype=torch.float64, device=y.device)


def test_metric(kind: str, pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The metric, float64 ``[...]``, of predictions ``pred`` ``[..., N]`` against ``y``
    ``[N]``: ``mean(errors) / normaliser`` (docs/science.md, "Test metric"). A network's
    outputs become predictions by :func:`predictions`."""
    return errors(kind, pred, y).mean(-1) / normaliser(kind, y)


def output_metric(kind: str, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """:func:`test_metric` of a network's outputs ``out`` ``[..., N, out]`` against ``y``
    ``[N]``."""
    return test_metric(kind, predictions(kind, out), y)


def relative_sd(kind: str, pred: torch.Tensor, y: torch.Tensor, n: int) -> float:
    """Relative standard deviation of :func:`test_metric` estimated on ``n`` test
    samples, for predictions ``pred`` ``[N]`` against ``y`` ``[N]`` drawn from the task
    (``N`` large), by the delta method for a ratio of means: with ``e`` the per-sample
    errors and ``d`` the per-sample normaliser terms ``(y - mean y)^2`` (1 for
    classification), ``SD / metric = sqrt(Var(e / E e - d / E d) / n)``.

    How many test samples a task needs before its metric means anything: a heavy
    tail in ``y`` makes this large at any practical ``n``.
    """
    e = errors(kind, pred, y)
    d = (y.double() - y.double().mean()).square() if kind == "regression" else torch.ones_like(e)
    influence = e / e.mean() - d / d.mean()
    return float(influence.var().div(n).sqrt())

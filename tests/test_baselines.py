import math

import pytest
import torch

from depthbench import baselines, tasks
from depthbench.baselines import GAINS, RIDGES
from depthbench.draws import Split
from depthbench.models import MLP
from depthbench.tasks.broadcast import majority


def uniform_split(f, dim, sizes=(2048, 1024, 1024), seed=0):
    """x ~ U[-1, 1]^dim, y = f(x), for train, validation and test."""
    draws = []
    for k, n in enumerate(sizes):
        x = torch.rand(n, dim, generator=torch.Generator().manual_seed(seed + k)) * 2 - 1
        draws += [x, f(x)]
    return Split(*draws)


def sine(x):
    return torch.sin(3 * x[:, 0])


def blobs(n, seed):
    """Two Gaussian blobs (sd 0.5) at +-(1.5, 1.5): separable but for a few far tails."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(2, (n,), generator=g)
    x = 0.5 * torch.randn(n, 2, generator=g) + (2 * y - 1).unsqueeze(1) * 1.5
    return x, y


def test_random_features_fit_a_smooth_function_with_the_validation_best_setting():
    split = uniform_split(sine, 1)
    fitted = baselines.random_features(split, "regression", 0, 200, "silu", seed=0)
    assert fitted.test_metric < 0.01
    assert fitted.gain in GAINS and fitted.ridge in RIDGES
    # every other grid point, fitted alone, does no better on validation
    others = [
        baselines.random_features(
            split, "regression", 0, 200, "silu", seed=0, gains=(gain,), ridges=(ridge,)
        ).val_metric
        for gain in GAINS
        for ridge in RIDGES[::2]
    ]
    assert fitted.val_metric <= min(others)
    alone = baselines.random_features(
        split, "regression", 0, 200, "silu", seed=0, gains=(fitted.gain,), ridges=(fitted.ridge,)
    )
    assert alone.val_metric == pytest.approx(fitted.val_metric, rel=1e-6)
    assert alone.test_metric == pytest.approx(fitted.test_metric, rel=1e-6)


@pytest.mark.parametrize(
    "fit",
    [
        lambda s, **kw: baselines.linear(s, "regression", 0, **kw),
        lambda s, **kw: baselines.random_features(s, "regression", 0, 64, "tanh", 0, **kw),
    ],
    ids=["linear", "random_features"],
)
def test_ridge_is_chosen_on_validation_not_test(fit):
    # train and test: y = x; validation: y = -x, where any fitted slope hurts, so the
    # validation-best ridge is the largest while the test-best is the smallest
    x = [
        torch.rand(n, 1, generator=torch.Generator().manual_seed(k)) * 2 - 1
        for k, n in enumerate((256, 256, 256))
    ]
    split = Split(x[0], x[0][:, 0], x[1], -x[1][:, 0], x[2], x[2][:, 0])
    fitted = fit(split)
    assert fitted.ridge == max(RIDGES)
    assert fitted.test_metric > 0.9
    assert fit(split, ridges=(min(RIDGES),)).test_metric < 0.01


def test_linear_recovers_a_linear_target_and_cannot_fit_a_product():
    beta = torch.tensor([1.0, -2.0, 3.0, 0.5, 0.0])
    exact = baselines.linear(uniform_split(lambda x: x @ beta + 0.7, 5), "regression", 0)
    assert exact.test_metric < 1e-6 and exact.train_loss < 1e-6
    assert exact.n_params == 6 and exact.n_hidden == 0 and exact.width is None
    assert math.isnan(exact.gain)
    product = baselines.linear(uniform_split(lambda x: x[:, 0] * x[:, 1], 2), "regression", 0)
    assert 0.95 < product.test_metric < 1.05


def test_a_regression_rule_is_scored_in_the_trainers_units():
    split = uniform_split(lambda x: x[:, 0] + x[:, 1], 2, sizes=(512, 256, 256))
    fitted = baselines.rule(split, "first", lambda x: x[:, 0], "regression")
    mse = split.x_test[:, 1].double().square().mean().item()
    var_test = split.y_test.double().var(unbiased=False).item()
    assert fitted.test_metric == pytest.approx(mse / var_test)
    assert fitted.test_loss == pytest.approx(mse / split.y_train.double().var().item())
    assert fitted.test_metric > 0.3  # not a perfect fit: the metric does see the error


def test_linear_ridge_classifier_separates_two_blobs():
    split = Split(*blobs(512, 0), *blobs(512, 1), *blobs(1024, 2))
    fitted = baselines.linear(split, "classification", 2)
    assert fitted.test_metric < 0.05
    assert math.isnan(fitted.test_loss) and fitted.n_params == 3 * 2


@pytest.mark.parametrize(
    "kind, n_classes, outputs", [("regression", 0, 1), ("classification", 3, 3)]
)
def test_random_features_count_parameters_like_a_one_hidden_layer_mlp(kind, n_classes, outputs):
    x = [torch.rand(n, 4, generator=torch.Generator().manual_seed(n)) for n in (64, 32, 32)]
    y = [torch.randint(3, (len(v),), generator=torch.Generator().manual_seed(1)) for v in x]
    if kind == "regression":
        y = [v.sum(1) for v in x]
    split = Split(x[0], y[0], x[1], y[1], x[2], y[2])
    fitted = baselines.random_features(split, kind, n_classes, 7, "relu", 0)
    assert fitted.n_params == MLP.count_params((1, 4), outputs, 1, 7)
    assert fitted.n_hidden == fitted.width == 7


def test_random_features_are_determined_by_the_seed():
    split = uniform_split(lambda x: x[:, 0] * x[:, 1], 2, sizes=(256, 128, 128))
    a, b, c = (
        baselines.random_features(split, "regression", 0, 16, "gelu", seed) for seed in (3, 3, 4)
    )
    assert a == b
    assert a.test_metric != c.test_metric


def test_baselines_give_the_same_bits_on_any_number_of_threads():
    """Issue 27: BLAS sums in an order set by the thread count; the fitted numbers moved
    by up to 1e-7 relative between machines, and byte-identical rebuilds broke."""
    split = uniform_split(lambda x: x.prod(1), 6, sizes=(2048, 1024, 1024))
    before = torch.get_num_threads()
    fits = []
    for threads in (1, 4):
        torch.set_num_threads(threads)
        try:
            fits.append(baselines.random_features(split, "regression", 0, 600, seed=1))
        finally:
            torch.set_num_threads(before)
    assert fits[0] == fits[1]
    assert torch.get_num_threads() == before  # the caller's count is restored


def test_random_features_reject_a_bad_width_or_activation():
    split = uniform_split(sine, 1, sizes=(8, 8, 8))
    with pytest.raises(ValueError, match="width"):
        baselines.random_features(split, "regression", 0, 0, "relu", 0)
    with pytest.raises(ValueError, match="activation"):
        baselines.random_features(split, "regression", 0, 4, "swish", 0)


def test_broadcast_majority_rule():
    assert majority(torch.tensor([[1.0, -1.0], [-1.0, -1.0], [1.0, 1.0]])).tolist() == [1, 0, 1]
    noiseless = tasks.make("broadcast", s=2, L=4, eps=1e-6)  # eps must lie in (0, 0.5)
    draws = [noiseless.sample(2048, seed) for seed in range(3)]
    predict = noiseless.rules()["majority"]
    clean = baselines.rule(
        Split(*draws[0], *draws[1], *draws[2]), "majority", predict, noiseless.kind
    )
    assert clean.test_metric == clean.train_metric == 0.0
    assert (clean.n_params, clean.n_hidden, clean.width) == (0, 0, None)
    assert math.isnan(clean.ridge) and math.isnan(clean.test_loss)

    task = tasks.make("broadcast", s=2, L=4, eps=0.15)
    x, y = task.sample(8192, seed=2)
    noisy = baselines.rule(
        Split(*task.sample(256, 0), *task.sample(256, 1), x, y),
        "majority",
        task.rules()["majority"],
        task.kind,
    )
    assert abs(noisy.test_metric - task.bayes_metric(x, y)) < 0.03
    assert noisy.test_metric < 0.3  # far from chance (0.5): the Bayes error is about 0.25


@pytest.mark.parametrize("family", list(tasks.FAMILIES))
def test_task_rules_map_inputs_to_predictions(family):
    task = tasks.make(family)
    x, _ = task.sample(16, seed=0)
    rules = task.rules()
    assert set(rules) == ({"majority"} if family == "broadcast" else set())
    for predict in rules.values():
        assert predict(x).shape == (16,)


@pytest.mark.parametrize("n, p", [(40, 12), (12, 40)], ids=["primal", "dual"])
def test_ridge_path_solves_each_ridge_system(n, p):
    # both eigendecompositions (of Hc^T Hc when p <= N, of Hc Hc^T when p > N) give the
    # read-out solving (Hc^T Hc + r mean(diag) I) W = Hc^T Tc with an unpenalised intercept
    g = torch.Generator().manual_seed(0)
    h, t, query = (
        torch.randn(*shape, generator=g, dtype=torch.float64) for shape in ((n, p), (n, 2), (5, p))
    )
    ridges = (1e-6, 1e-2, 10.0)
    outputs = baselines.ridge_path(h, t, ridges)(query)
    hc, tc = h - h.mean(0), t - t.mean(0)
    gram = hc.T @ hc
    for ridge, out in zip(ridges, outputs):
        w = torch.linalg.solve(
            gram + ridge * gram.diagonal().mean() * torch.eye(p, dtype=h.dtype), hc.T @ tc
        )
        torch.testing.assert_close(out, (query - h.mean(0)) @ w + t.mean(0))

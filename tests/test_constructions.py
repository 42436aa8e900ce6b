"""The constructed networks of docs/science.md ("Constructed networks"): accuracy, neuron
counts, scale behaviour."""

import math

import numpy as np
import pytest
import torch

from depthbench import constructions as C
from depthbench import metrics, tasks
from depthbench.tasks.sawtooth import tent


def _built(family, **params):
    task = tasks.make(family, **params)
    x_val, y_val = task.sample(1024, seed=1)
    x_test, y_test = task.sample(4096, seed=2)
    nets = {name: make(x_val, y_val) for name, make in task.constructions(C.MAX_NEURONS).items()}
    return (
        task,
        nets,
        {
            name: metrics.output_metric(task.kind, net(x_test), y_test).item()
            for name, net in nets.items()
        },
    )


def test_gate_error_falls_as_lambda_squared_until_rounding_wins():
    task = tasks.make("product", n=2)
    x, y = task.sample(4096, seed=0)
    scales = np.logspace(-4, 0, 17)
    # relative RMS error of the 4-neuron multiplication gate, evaluated in float32
    program = C.product_program(2)
    error = np.array(
        [
            math.sqrt(metrics.output_metric(task.kind, C.compile_program(program, 2, s)(x), y))
            for s in scales
        ]
    )
    truncation = scales >= 0.1  # well above the float32 rounding floor
    slope = np.polyfit(np.log(scales[truncation]), np.log(error[truncation]), 1)[0]
    assert 1.8 < slope < 2.2
    best = error.argmin()
    assert 0 < best < len(scales) - 1  # too small a lambda loses to rounding
    assert error[0] > 10 * error[best]


def test_deep_product_of_8_inputs_with_28_neurons():
    task, nets, metric = _built("product", n=8)
    assert nets["deep_product"].n_hidden == 28 == task.theory()["deep_neurons"]
    assert nets["deep_product"].widths == [16, 8, 4]
    assert metric["deep_product"] < 1e-4


def test_shallow_product_of_4_inputs_with_16_neurons():
    task, nets, metric = _built("product", n=4)
    assert nets["shallow_product"].n_hidden == 16 == task.theory()["shallow_neurons"]
    assert nets["shallow_product"].depth == 1
    assert metric["shallow_product"] < 1e-4


@pytest.mark.parametrize("n", [2, 3, 5, 6])
def test_product_neuron_counts(n):
    task, nets, metric = _built("product", n=n)
    assert nets["shallow_product"].n_hidden == 2**n
    deep = nets["deep_product"]
    carries = sum(1 for layer in C.product_program(n) for gate in layer if gate[0] == "carry")
    assert deep.n_hidden == 4 * (n - 1) + 2 * carries
    assert deep.depth == math.ceil(math.log2(n))
    assert max(metric.values()) < 1e-2


@pytest.mark.parametrize(
    "family,params",
    [
        ("power", {"d": 2}),
        ("power", {"d": 7}),
        ("power", {"d": 16}),
        ("monomial", {"exponents": [1, 2, 3]}),
        ("monomial", {"exponents": [3, 3, 1, 2]}),
    ],
)
def test_power_and_monomial_within_the_deep_bound(family, params):
    task, nets, metric = _built(family, **params)
    (name,) = nets
    assert nets[name].n_hidden <= task.theory()["deep_neurons"]
    assert metric[name] < 1e-4


@pytest.mark.parametrize("mode", ["regression", "classification", "points"])
@pytest.mark.parametrize("k", [1, 4, 9])
def test_sawtooth_constructions_are_exact(k, mode):
    task, nets, metric = _built("sawtooth", k=k, mode=mode)
    assert nets["deep_sawtooth"].n_hidden == 2 * k == task.theory()["deep_neurons"]
    assert nets["deep_sawtooth"].depth == k
    assert nets["shallow_sawtooth"].n_hidden == 2**k == task.theory()["shallow_neurons"] + 1
    if mode == "regression":
        # exact up to rounding of the 2^k terms weighted 2^(k+1): checked in float64 with
        # the worst-case bound, and in float32 with a random-walk bound
        x = torch.rand(4096, 1, dtype=torch.float64)
        worst = 2 ** (2 * k + 1) * torch.finfo(torch.float64).eps
        for net in nets.values():
            torch.testing.assert_close(net(x)[:, 0], tent(x[:, 0], k), rtol=0, atol=worst)
        rounding = math.sqrt(2**k) * 2 ** (k + 1) * torch.finfo(torch.float32).eps * 10
        assert math.sqrt(metric["shallow_sawtooth"] * (1 / 12)) < rounding
        assert metric["deep_sawtooth"] < 1e-10
    else:
        assert metric["deep_sawtooth"] == metric["shallow_sawtooth"] == 0.0


@pytest.mark.parametrize("k", [3, 6, 10])
def test_sawtooth_classifiers_send_ties_to_class_1_as_the_labels_do(k):
    # the midpoints x = (2j+1)/2^(k+1), where T^k(x) = 1/2 exactly in float32: the task
    # labels them 1[T^k(x) >= 1/2] = 1 (Sawtooth.sample's rule)
    x = ((2 * torch.arange(2**k) + 1) / 2 ** (k + 1)).float()[:, None]
    f = tent(x[:, 0], k)
    assert (f == 0.5).all()
    y = (f >= 0.5).long()
    nets = tasks.make("sawtooth", k=k, mode="classification").constructions(C.MAX_NEURONS)
    assert nets.keys() == {"deep_sawtooth", "shallow_sawtooth"}
    for name, make in nets.items():
        net = make(x, y)
        assert metrics.output_metric("classification", net(x), y).item() == 0.0, name


def test_construction_parameters_match_their_dense_layers():
    _, nets, _ = _built("product", n=4)
    for net in nets.values():
        assert net.n_params == sum(w.numel() + b.numel() for w, b in net.layers)
        assert net.n_hidden == sum(net.widths)


def test_families_without_constructions_get_none():
    assert tasks.make("rhm").constructions(C.MAX_NEURONS) == {}
    assert tasks.make("product", n=13).constructions(4096).keys() == {"deep_product"}

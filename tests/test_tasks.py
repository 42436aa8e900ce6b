import pytest
import torch

from depthbench import tasks
from depthbench.errors import ConfigError

FAMILIES = {"product": {"n": 5}, "tree": {"s": 2, "L": 3}}


@pytest.mark.parametrize("family", FAMILIES)
def test_same_seed_same_data_different_seed_different_data(family):
    task = tasks.make(family, **FAMILIES[family])
    x1, y1 = task.sample(100, seed=7)
    x2, y2 = task.sample(100, seed=7)
    x3, y3 = task.sample(100, seed=8)
    assert torch.equal(x1, x2) and torch.equal(y1, y2)
    assert not torch.equal(x1, x3) and not torch.equal(y1, y3)
    assert x1.shape == (100, task.input_dim) and x1.dtype == torch.float32
    assert y1.shape == (100,) and y1.dtype == torch.float32
    assert task.kind == "regression" and task.output_dim == 1


def test_product_values_and_theory():
    task = tasks.make("product", n=4, low=0.0, high=2.0)
    x, y = task.sample(50, seed=0)
    torch.testing.assert_close(y, x[:, 0] * x[:, 1] * x[:, 2] * x[:, 3])
    assert x.min() >= 0 and x.max() <= 2
    assert task.theory == {"shallow_neurons": 16.0, "deep_neurons": 12.0}


def test_tree_instance_is_fixed_by_function_seed():
    a, b = tasks.make("tree", s=3, L=2), tasks.make("tree", s=3, L=2)
    c = tasks.make("tree", s=3, L=2, function_seed=1)
    x, y = a.sample(64, seed=0)
    assert a.input_dim == 9
    assert torch.equal(y, b.evaluate(x)) and not torch.equal(y, c.evaluate(x))
    assert y.abs().max() < 1 and y.std() > 0.01


def test_tree_is_composed_level_by_level():
    task = tasks.make("tree", s=2, L=2, function_seed=3)
    x = torch.rand(16, 4) * 2 - 1
    A, b, c = task._A, task._b, task._c

    def node(i, z):
        return torch.tanh(torch.einsum("ni,ij,nj->n", z, A[i], z) + z @ b[i] + c[i])

    h1, h2 = node(0, x[:, :2]), node(1, x[:, 2:])
    expected = node(2, torch.stack([h1, h2], dim=1))
    torch.testing.assert_close(task.evaluate(x), expected)


@pytest.mark.parametrize(
    "family,params,key",
    [("product", {"n": -3}, "task.n"), ("product", {"n": 2.5}, "task.n"),
     ("product", {"n": 4, "low": 1.0, "high": 0.0}, "task.high"),
     ("tree", {"s": 1}, "task.s"), ("tree", {"s": 4, "L": 7}, "task.L"),
     ("tree", {"function_seed": -1}, "task.function_seed"),
     ("product", {"m": 3}, "task.m"), ("broadcastx", {}, "task")],
)
def test_invalid_parameters_name_the_key(family, params, key):
    with pytest.raises(ConfigError) as err:
        tasks.make(family, **params)
    assert str(err.value).startswith(f"{key}:")

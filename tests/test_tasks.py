import pytest
import torch

from depthbench import tasks
from depthbench.errors import ConfigError


@pytest.mark.parametrize("family", tasks.FAMILIES)
def test_same_seed_same_data_different_seed_different_data(family):
    task = tasks.make(family)  # the defaults that conf/task/<family>.yaml also uses
    x1, y1 = task.sample(100, seed=7)
    x2, y2 = task.sample(100, seed=7)
    x3, y3 = task.sample(100, seed=8)
    assert torch.equal(x1, x2) and torch.equal(y1, y2)
    assert not torch.equal(x1, x3) and not torch.equal(y1, y3)
    assert x1.shape == (100, task.input_dim) and x1.dtype == torch.float32
    assert y1.shape == (100,)
    if task.kind == "regression":
        assert y1.dtype == torch.float32 and task.output_dim == 1 and task.n_classes == 0
    else:
        assert y1.dtype == torch.int64 and task.output_dim == task.n_classes >= 2
        assert 0 <= y1.min() and y1.max() < task.n_classes


@pytest.mark.parametrize("family", tasks.FAMILIES)
def test_config_defaults_match_the_python_defaults(family):
    from omegaconf import OmegaConf

    from depthbench.experiments import conf_dir

    cfg = OmegaConf.to_container(OmegaConf.load(conf_dir() / "task" / f"{family}.yaml"))
    assert cfg.pop("name") == family
    assert tasks.make(family, **cfg).params == tasks.make(family).params


def test_product_values_and_theory():
    task = tasks.make("product", n=4, low=0.0, high=2.0)
    x, y = task.sample(50, seed=0)
    torch.testing.assert_close(y, x[:, 0] * x[:, 1] * x[:, 2] * x[:, 3])
    assert x.min() >= 0 and x.max() <= 2
    assert task.theory() == {"shallow_neurons": 16.0, "deep_neurons": 12.0}


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
    A, b, c = task.A, task.b, task.c

    def node(i, z):
        return torch.tanh(torch.einsum("ni,ij,nj->n", z, A[i], z) + z @ b[i] + c[i])

    h1, h2 = node(0, x[:, :2]), node(1, x[:, 2:])
    expected = node(2, torch.stack([h1, h2], dim=1))
    torch.testing.assert_close(task.evaluate(x), expected)


@pytest.mark.parametrize(
    "family,params,key",
    [
        ("product", {"n": -3}, "task.n"),
        ("product", {"n": 2.5}, "task.n"),
        ("product", {"n": 4, "low": 1.0, "high": 0.0}, "task.high"),
        ("tree", {"s": 1}, "task.s"),
        ("tree", {"s": 4, "L": 7}, "task.L"),
        ("tree", {"function_seed": -1}, "task.function_seed"),
        ("product", {"m": 3}, "task.m"),
        ("broadcastx", {}, "task"),
        ("monomial", {"exponents": []}, "task.exponents"),
        ("monomial", {"exponents": [1, 0]}, "task.exponents"),
        ("monomial", {"exponents": "12"}, "task.exponents"),
        ("power", {"d": 1}, "task.d"),
        ("polynomial", {"degree": 5}, "task.degree"),
        ("polynomial", {"lattice": "hex"}, "task.lattice"),
        ("polynomial", {"n": 10, "lattice": "square"}, "task.n"),
        ("polynomial", {"symmetric": "yes"}, "task.symmetric"),
        ("sawtooth", {"k": 0}, "task.k"),
        ("sawtooth", {"mode": "ranking"}, "task.mode"),
        ("radial", {"d": 0}, "task.d"),
        ("radial", {"profile": "cube"}, "task.profile"),
        ("radial", {"frequency": -1.0}, "task.frequency"),
        ("rhm", {"v": 4, "s": 2, "m": 5, "n_c": 4}, "task.m"),  # n_c m = 20 > v^s = 16
        ("rhm", {"v": 8, "s": 2, "m": 9, "n_c": 2, "L": 2}, "task.m"),  # m > v^(s-1) = 8
        ("rhm", {"v": 16, "m": 4, "s": 2, "L": 6, "n_c": 8}, "task.L"),  # P_max = 8 * 4^63
        ("rhm", {"n_c": 1}, "task.n_c"),
        ("rhm", {"v": 64, "s": 5}, "task.v"),
        ("broadcast", {"eps": 0.5}, "task.eps"),
        ("broadcast", {"eps": 0.0}, "task.eps"),
        ("broadcast", {"s": 2, "L": 13}, "task.L"),
        ("teacher", {"L_t": 0}, "task.L_t"),
        ("teacher", {"activation": "gelu"}, "task.activation"),
        ("teacher", {"width": 0}, "task.width"),
        ("teacher", {"distribution": "cauchy"}, "task.distribution"),
        ("radial", {"distribution": "sphere"}, "task.distribution"),
    ],
)
def test_invalid_parameters_name_the_key(family, params, key):
    with pytest.raises(ConfigError) as err:
        tasks.make(family, **params)
    assert str(err.value).startswith(f"{key}:")


def test_a_family_name_taken_twice_is_refused():
    with pytest.raises(TypeError, match="task family 'product' is defined twice"):

        class Another(tasks.Task):
            family = "product"

    assert tasks.FAMILIES["product"].__name__ == "Product"

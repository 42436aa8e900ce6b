import math

import numpy as np
import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from depthbench import models, tasks
from depthbench.errors import ConfigError
from depthbench.models import MLP, TreeNet
from depthbench.models.budget import TOLERANCE
from depthbench.trainer import Data, Member, train_group


@pytest.mark.parametrize(
    "n,o,depth,width",
    [(2, 1, 1, 1), (8, 1, 1, 30), (8, 1, 2, 17), (6, 3, 4, 9), (20, 1, 6, 64), (1, 10, 3, 5)],
)
def test_count_params_is_the_sum_of_parameter_sizes(n, o, depth, width):
    model = MLP((1, n), o, depth, width, members=3)
    per_member = sum(p.numel() for p in model.parameters()) // 3
    assert MLP.count_params((1, n), o, depth, width) == per_member
    # docs/science.md, "Budget": n_params = (n+1)w + (d-1)(w+1)w + (w+1)o
    assert per_member == (n + 1) * width + (depth - 1) * (width + 1) * width + (width + 1) * o


@pytest.mark.parametrize("n,depth", [(2, 1), (8, 1), (8, 2), (8, 4), (12, 6), (64, 3)])
def test_budget_solver_hits_the_budget_or_says_infeasible(n, depth):
    def count(w):
        return MLP.count_params((1, n), 1, depth, w)

    for budget in [5, 10, 30, 60, 100, 150, 300, 1000, 3000, 30000]:
        fit = models.fit("mlp", (1, n), 1, depth, budget)
        best = min(range(1, 20000), key=lambda w: abs(count(w) - budget))  # brute force
        if fit.feasible:
            assert fit.n_params == count(fit.width)
            assert abs(fit.n_params - budget) <= TOLERANCE * budget
            assert abs(fit.n_params - budget) == abs(count(best) - budget)
        else:
            assert fit.reason
            assert abs(count(best) - budget) > TOLERANCE * budget


def test_infeasible_reasons():
    too_small = models.fit("mlp", (1, 8), 1, 4, 10)  # width 1 already has 17 parameters
    assert not too_small.feasible and too_small.reason.startswith("width < 1")
    between = models.fit("mlp", (1, 8), 1, 4, 50)  # widths 2, 3 give 39, 67 parameters
    assert not between.feasible and "nearest width 2 has 39" in between.reason


def test_unknown_activation_and_model_are_config_errors():
    with pytest.raises(ConfigError, match="model.activation.*relu"):
        models.check_params("mlp", {"activation": "swish2"})
    with pytest.raises(ConfigError, match="model.depth_scale"):
        models.check_params("mlp", {"depth_scale": 2})
    with pytest.raises(ConfigError, match="unknown model 'cnn'"):
        models.model_class("cnn")


def test_member_initialisation_does_not_depend_on_the_group():
    group = MLP((1, 5), 1, 2, 7, members=3)
    group.reset_parameters([11, 22, 33])
    alone = MLP((1, 5), 1, 2, 7, members=1)
    alone.reset_parameters([22])
    for g, a in zip(group.parameters(), alone.parameters()):
        assert torch.equal(g[1], a[0])
    assert not torch.equal(group.weights[0][0], group.weights[0][1])


def test_shared_and_per_member_inputs_agree():
    model = MLP((1, 4), 2, 3, 6, members=2, activation="tanh")
    model.reset_parameters([0, 1])
    x = torch.randn(10, 4)
    shared = model(x)
    per_member = model(x.expand(2, 10, 4).contiguous())
    assert shared.shape == (2, 10, 2)
    torch.testing.assert_close(shared, per_member)


def test_residual_mlp_adds_its_input_in_later_hidden_layers():
    plain = MLP((1, 3), 1, 3, 5, members=1, activation="tanh")
    plain.reset_parameters([0])
    res = MLP((1, 3), 1, 3, 5, members=1, activation="tanh", residual=True)
    res.reset_parameters([0])
    x = torch.randn(7, 3)
    (w0, w1, w2, w3), (b0, b1, b2, b3) = [p[0] for p in res.weights], [p[0] for p in res.biases]
    h = torch.tanh(x @ w0 + b0)
    h = h + torch.tanh(h @ w1 + b1)
    h = h + torch.tanh(h @ w2 + b2)
    torch.testing.assert_close(res(x)[0], h @ w3 + b3)
    assert not torch.allclose(res(x), plain(x))
    assert sum(p.numel() for p in res.parameters()) == sum(p.numel() for p in plain.parameters())


@pytest.mark.parametrize(
    "shape,s,depth,width,out",
    [((1, 8), 2, 3, 4, 1), ((16, 8), 2, 3, 7, 8), ((5, 9), 3, 2, 6, 2), ((1, 2), 2, 1, 3, 1)],
)
@pytest.mark.parametrize("shared", [False, True])
def test_tree_count_params_is_the_sum_of_parameter_sizes(shape, s, depth, width, out, shared):
    net = TreeNet(shape, out, depth, width, members=2, s=s, shared=shared)
    per_member = sum(p.numel() for p in net.parameters()) // 2
    assert TreeNet.count_params(shape, out, depth, width, s=s, shared=shared) == per_member
    assert net.n_hidden == sum(shape[1] // s**level for level in range(1, depth + 1)) * width


def test_shared_tree_has_fewer_parameters_than_unshared():
    for shape in [(1, 8), (16, 16)]:
        depth = int(math.log2(shape[1]))
        shared = TreeNet.count_params(shape, 1, depth, 10, shared=True)
        assert shared < TreeNet.count_params(shape, 1, depth, 10, shared=False)


def test_tree_is_local_each_output_position_sees_only_its_patch():
    net = TreeNet((1, 8), 1, 3, 4, members=1)
    net.reset_parameters([0])
    net.readout.data.zero_()
    net.readout.data[0, 0, 0] = 1.0
    x = torch.randn(1, 8, requires_grad=True)
    first = net.activation(
        torch.einsum("bpi,pio->bpo", x.view(1, 4, 2), net.weights[0][0])
        + net.biases[0][0].squeeze(1)
    )  # level 1: [1, 4 positions, 4]
    (grad,) = torch.autograd.grad(first[0, 1].sum(), x)
    assert grad[0].nonzero()[:, 0].tolist() == [2, 3]  # position 1 reads inputs 2 and 3


def test_tree_depth_is_fixed_by_the_input():
    fit = models.fit("tree", (1, 8), 1, 3, 231)
    assert (fit.width, fit.n_params, fit.n_hidden) == (5, 231, 7 * 5)  # 4 + 2 + 1 positions
    wrong = models.fit("tree", (1, 8), 1, 2, 231)
    assert not wrong.feasible and "need depth 3" in wrong.reason
    assert "not a power of s=2" in models.fit("tree", (1, 6), 1, 2, 231).reason


def _measured_flops(net, n_biases: int, pooled: int) -> int:
    """One member's forward FLOPs on one sample as torch counts them (2 per multiply-add
    of its matrix products, no bias or pooling adds), plus those: ``count_flops``'s
    convention."""
    with FlopCounterMode(display=False) as counter:
        net(torch.randn(1, net.input_dim))
    return counter.get_total_flops() + 2 * n_biases + pooled


@pytest.mark.parametrize(
    "shape,depth,shared,pool",
    [
        ((16, 8), 3, True, False),
        ((16, 8), 3, False, False),
        ((16, 8), 1, True, True),
        ((3, 16), 2, True, True),
        ((3, 16), 2, False, True),
        ((4, 8), 3, True, True),
    ],
)
def test_forward_flops_are_what_torch_counts_in_one_forward_pass(shape, depth, shared, pool):
    net = TreeNet(shape, 5, depth, 6, members=1, shared=shared, pool=pool, s=2)
    net.reset_parameters([0])
    biases = sum(shape[1] // 2**level for level in range(1, depth + 1)) * 6 + 5
    left = shape[1] // 2**depth
    assert net.forward_flops == _measured_flops(net, biases, left * 6 if pool else 0)
    mlp = MLP(shape, 5, depth, 6, members=1)
    assert mlp.forward_flops == _measured_flops(mlp, depth * 6 + 5, 0) == 2 * mlp.n_params
    if not shared:  # each parameter used once per sample, pooling aside
        assert net.forward_flops == 2 * net.n_params + (left * 6 if pool else 0)


def test_a_shared_filter_costs_flops_at_every_position_it_is_applied():
    local = models.fit("tree", (16, 8), 8, 3, 20000, s=2, shared=False)
    cnn = models.fit("tree", (16, 8), 8, 3, 20000, s=2, shared=True)
    assert local.forward_flops == 2 * local.n_params
    assert cnn.forward_flops > 2.5 * cnn.n_params  # level 1's filter at 4 positions, 2's at 2


def test_a_pooled_tree_takes_any_depth_up_to_its_levels_and_is_local():
    for depth in (1, 2, 3):
        fit = models.fit("tree", (1, 8), 1, depth, 300, shared=True, pool=True)
        assert fit.feasible, fit.reason
    too_deep = models.fit("tree", (1, 8), 1, 4, 300, shared=True, pool=True)
    assert not too_deep.feasible and "allow depth 1 to 3" in too_deep.reason
    assert "model.pool=true allows fewer" in models.fit("tree", (1, 8), 1, 2, 300).reason
    net = TreeNet((1, 8), 1, 1, 4, members=1, shared=True, pool=True)
    net.reset_parameters([0])
    x = torch.randn(1, 8)
    swapped = x[:, [1, 0, 3, 2, 5, 4, 7, 6]].clone()  # swaps inside patches change the output
    permuted = x[:, [2, 3, 0, 1, 6, 7, 4, 5]].clone()  # moving whole patches does not
    assert not torch.allclose(net(x), net(swapped))
    assert torch.allclose(net(x), net(permuted), atol=1e-6)
    with pytest.raises(ConfigError, match="model.pool"):
        models.check_params("tree", {"pool": "yes"})


def test_shared_tree_learns_a_small_random_hierarchy():
    task = tasks.make("rhm", v=8, n_c=4, m=2, s=2, L=2)  # P_max = 32 distinct inputs
    errors = []
    for split in range(2):  # "enough samples": 27 of the 32 inputs; 1 to validate, 4 to test
        data = Data.from_draws(task.kind, *task.split(27, 1, 4, seed=split))
        net = TreeNet(
            task.input_shape, task.output_dim, 2, 64, members=4, shared=True, activation="relu"
        )
        net.reset_parameters([0, 1, 2, 3])
        result = train_group(net, data, [Member(s, 0.003, 27) for s in range(4)], 2000, 16)
        errors += result.test_metric.tolist()
    assert np.median(errors) < 0.05

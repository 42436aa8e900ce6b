import pytest
import torch

from depthbench import models
from depthbench.errors import ConfigError
from depthbench.models import MLP
from depthbench.models.budget import TOLERANCE


@pytest.mark.parametrize("n,o,depth,width", [(2, 1, 1, 1), (8, 1, 1, 30), (8, 1, 2, 17),
                                             (6, 3, 4, 9), (20, 1, 6, 64), (1, 10, 3, 5)])
def test_count_params_is_the_sum_of_parameter_sizes(n, o, depth, width):
    model = MLP(n, o, depth, width, members=3)
    per_member = sum(p.numel() for p in model.parameters()) // 3
    assert MLP.count_params(n, o, depth, width) == per_member
    # SCIENCE.md: n_params = (n+1)w + (d-1)(w+1)w + (w+1)o
    assert per_member == (n + 1) * width + (depth - 1) * (width + 1) * width + (width + 1) * o


@pytest.mark.parametrize("n,depth", [(2, 1), (8, 1), (8, 2), (8, 4), (12, 6), (64, 3)])
def test_budget_solver_hits_the_budget_or_says_infeasible(n, depth):
    def count(w):
        return MLP.count_params(n, 1, depth, w)

    for budget in [5, 10, 30, 60, 100, 150, 300, 1000, 3000, 30000]:
        fit = models.fit("mlp", n, 1, depth, budget)
        best = min(range(1, 20000), key=lambda w: abs(count(w) - budget))  # brute force
        if fit.feasible:
            assert fit.n_params == count(fit.width)
            assert abs(fit.n_params - budget) <= TOLERANCE * budget
            assert abs(fit.n_params - budget) == abs(count(best) - budget)
        else:
            assert fit.reason
            assert abs(count(best) - budget) > TOLERANCE * budget


def test_infeasible_reasons():
    too_small = models.fit("mlp", 8, 1, 4, 10)  # width 1 already has 17 parameters
    assert not too_small.feasible and too_small.reason.startswith("width < 1")
    between = models.fit("mlp", 8, 1, 4, 50)  # widths 2, 3 give 39, 67 parameters
    assert not between.feasible and "nearest width 2 has 39" in between.reason


def test_unknown_activation_and_model_are_config_errors():
    with pytest.raises(ConfigError, match="model.activation.*relu"):
        models.check_params("mlp", {"activation": "swish2"})
    with pytest.raises(ConfigError, match="model.depth_scale"):
        models.check_params("mlp", {"depth_scale": 2})
    with pytest.raises(ConfigError, match="unknown model 'cnn'"):
        models.model_class("cnn")


def test_member_initialisation_does_not_depend_on_the_group():
    group = MLP(5, 1, 2, 7, members=3)
    group.reset_parameters([11, 22, 33])
    alone = MLP(5, 1, 2, 7, members=1)
    alone.reset_parameters([22])
    for g, a in zip(group.parameters(), alone.parameters()):
        assert torch.equal(g[1], a[0])
    assert not torch.equal(group.weights[0][0], group.weights[0][1])


def test_shared_and_per_member_inputs_agree():
    model = MLP(4, 2, 3, 6, members=2, activation="tanh")
    model.reset_parameters([0, 1])
    x = torch.randn(10, 4)
    shared = model(x)
    per_member = model(x.expand(2, 10, 4).contiguous())
    assert shared.shape == (2, 10, 2)
    torch.testing.assert_close(shared, per_member)

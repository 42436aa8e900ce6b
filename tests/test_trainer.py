import numpy as np
import pytest
import torch

from depthbench import tasks
from depthbench.models import MLP
from depthbench.optim import Optimizer
from depthbench.schedule import Schedule
from depthbench.trainer import INDEX_BLOCK, Data, Member, train_group


def _data(task, n_train=512, n_test=256):
    return Data.from_draws(
        task.kind, task.sample(n_train, 1), task.sample(n_test, 3), task.sample(n_test, 2)
    )


def _train(data, members, depth=2, width=8, steps=40, batch_size=32):
    model = MLP((1, data.x_train.shape[1]), 1, depth, width, members=len(members))
    model.reset_parameters([100 + m.seed for m in members])
    result = train_group(model, data, members, steps=steps, batch_size=batch_size)
    return model, result


def test_group_equals_separate_one_member_runs():
    data = _data(tasks.make("product", n=3))
    members = [
        Member(0, 0.01, 512),
        Member(1, 0.003, 512),
        Member(2, 0.03, 256),
        Member(0, 0.001, 128),
    ]
    group_model, group = _train(data, members)
    for k, member in enumerate(members):
        solo_model, solo = _train(data, [member])
        for g, s in zip(group_model.parameters(), solo_model.parameters()):
            torch.testing.assert_close(g[k], s[0], rtol=1e-5, atol=1e-5)
        for field in ("train_loss", "test_loss", "test_metric"):
            np.testing.assert_allclose(getattr(group, field)[k], getattr(solo, field)[0], rtol=1e-5)


def test_diverged_member_is_marked_and_the_others_go_on():
    data = _data(tasks.make("product", n=2))
    members = [Member(0, 0.01, 512), Member(1, 1e30, 512)]
    _, group = _train(data, members)
    _, solo = _train(data, members[:1])
    assert group.diverged.tolist() == [False, True]
    assert group.steps[1] < 40 and group.steps[0] == 40
    np.testing.assert_allclose(group.test_metric[0], solo.test_metric[0], rtol=1e-5)


def test_a_row_says_loss_became_non_finite_only_when_its_loss_did():
    """Issue 27: outputs that overflow on the evaluation draws with a finite training
    loss were stored as 'loss became non-finite'."""
    from depthbench.rows import _diverged

    assert _diverged(True, np.array([0.5, np.nan])) == "loss became non-finite"
    assert "training loss finite" in _diverged(True, np.array([0.5, 0.4]))
    assert _diverged(False, np.array([0.5, 0.4])) is None


def test_trainer_learns_the_product_of_two_inputs():
    task = tasks.make("product", n=2)  # y = x_1 x_2 on [-1, 1]^2
    data = _data(task, n_train=4096, n_test=2048)
    width = 20
    assert abs(MLP.count_params((1, 2), 1, 2, width) - 500) < 50
    _, result = _train(
        data, [Member(0, 0.01, 4096)], depth=2, width=width, steps=1500, batch_size=128
    )
    assert result.test_metric[0] < 0.05


def test_classification_targets_use_cross_entropy_and_error_rate():
    torch.manual_seed(0)
    x = torch.randn(600, 2)
    y = (x[:, 0] > 0).long()  # a separable two-class problem
    data = Data.from_draws(
        "classification", (x[:400], y[:400]), (x[400:500], y[400:500]), (x[500:], y[500:])
    )
    model = MLP((1, 2), 2, 1, 8, members=1)
    model.reset_parameters([0])
    result = train_group(model, data, [Member(0, 0.03, 400)], steps=200, batch_size=64)
    assert result.test_metric[0] < 0.05
    assert 0 <= result.test_loss[0] < 0.5


@pytest.mark.parametrize("steps", [1, 65])
def test_steps_are_counted_across_index_blocks(steps):
    data = _data(tasks.make("product", n=2))
    seen = []
    model = MLP((1, 2), 1, 1, 4, members=1)
    model.reset_parameters([0])
    result = train_group(model, data, [Member(0, 0.01, 512)], steps, 16, on_steps=seen.append)
    assert sum(seen) == steps and result.steps[0] == steps


def test_online_members_draw_fresh_samples_and_equal_their_one_member_runs():
    task = tasks.make("product", n=2)
    data = _data(task)
    seen = []

    def sample(num, seed, step):
        seen.append((seed, step))
        return task.sample(num, 1000 * seed + step)

    members = [Member(0, 0.01, 0), Member(1, 0.003, 0)]
    group = train_group(_model(members), data, members, 130, 32, online=sample)
    assert sorted(set(seen)) == [(s, b) for s in (0, 1) for b in (0, 64, 128)]  # a block at a time
    for k, member in enumerate(members):
        solo = train_group(_model([member]), data, [member], 130, 32, online=sample)
        np.testing.assert_allclose(group.test_metric[k], solo.test_metric[0], rtol=1e-5)
        assert group.train_loss[k] == pytest.approx(group.curve[k, -1], rel=1e-6)
    assert (group.curve[:, -1] < group.curve[:, 0]).all()
    with pytest.raises(ValueError, match="all online"):
        train_group(
            _model(members), data, [Member(0, 0.01, 0), Member(1, 0.01, 512)], 10, 8, online=sample
        )


def _model(members):
    model = MLP((1, 2), 1, 2, 8, members=len(members))
    model.reset_parameters([100 + m.seed for m in members])
    return model


def test_a_member_whose_last_step_blows_up_is_diverged_not_ok():
    data = _data(tasks.make("product", n=2))
    model = MLP((1, 2), 1, 3, 8, members=1)
    model.reset_parameters([100])
    result = train_group(
        model, data, [Member(0, 1e30, 512)], 1, 16
    )  # one step: the loss was finite
    assert result.diverged.tolist() == [True]


def test_a_member_stops_at_its_stop_loss_and_its_weights_stay_put():
    """stop_loss above any loss: every member stops after its first block of steps (64),
    and training on changes nothing of it; without one, every step is taken."""
    task = tasks.make("product", n=3)
    data = _data(task)
    members = [Member(0, 0.01, 512), Member(1, 0.01, 512)]
    stopped = MLP((1, 3), 1, 2, 8, members=2)
    stopped.reset_parameters([0, 1])
    sgd, flat = Optimizer("sgd", 0.9, 5e-4, stop_loss=1e9), Schedule("constant")
    first = train_group(stopped, data, members, INDEX_BLOCK, 64, flat, optimizer_spec=sgd)
    after = [p.detach().clone() for p in stopped.parameters()]
    stopped.reset_parameters([0, 1])
    longer = train_group(stopped, data, members, 5 * INDEX_BLOCK, 64, flat, optimizer_spec=sgd)
    assert first.steps.tolist() == longer.steps.tolist() == [INDEX_BLOCK, INDEX_BLOCK]
    for p, q in zip(stopped.parameters(), after):
        assert torch.equal(p.detach(), q)
    running = Optimizer("sgd", 0.9, 5e-4)
    stopped.reset_parameters([0, 1])
    full = train_group(stopped, data, members, 5 * INDEX_BLOCK, 64, optimizer_spec=running)
    assert full.steps.tolist() == [5 * INDEX_BLOCK] * 2

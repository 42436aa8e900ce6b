"""Learning-rate schedules, the training-loss record and the convergence rule."""

import numpy as np
import pytest

from depthbench import results, tasks
from depthbench.models import MLP
from depthbench.run import run
from depthbench.schedule import Schedule, checkpoints, converged
from depthbench.trainer import Data, Member, train_group

# (depth, budget, seed) -> (train_loss, test_metric) of `depthbench run experiment=smoke
# task.n=2` at commit b6de012, the last with a constant rate and no validation split.
# Identical at ee7837b; since targets are standardised with float64 statistics (they
# were float32) they agree to about 1e-6 relative.
BEFORE = {
    (1, 300, 0): (0.0028222858430691933, 0.0029518881447977052),
    (1, 300, 1): (0.01370619366293796, 0.013842156172614594),
    (1, 1000, 0): (0.0025173399636825855, 0.0027442957109566407),
    (1, 1000, 1): (0.005210550054415564, 0.006173812899704757),
    (2, 300, 0): (0.019734504808501446, 0.020631087160815097),
    (2, 300, 1): (0.13874640320514525, 0.16423045029393768),
    (2, 1000, 0): (0.00980588664553346, 0.011840299218877706),
    (2, 1000, 1): (0.019640331808806123, 0.029670386557953735),
}


def test_a_constant_schedule_reproduces_the_numbers_before_schedules(make_cfg):
    cfg = make_cfg("task.n=2", "train.schedule=constant")
    run(cfg)
    stored = results.load(cfg.results_dir).set_index(["depth", "budget", "seed"])
    assert len(stored) == len(BEFORE)
    for key, (train_loss, test_metric) in BEFORE.items():
        assert stored.loc[key, "train_loss"] == pytest.approx(train_loss, rel=1e-5)
        assert stored.loc[key, "test_metric"] == pytest.approx(test_metric, rel=1e-5)


def test_the_default_schedule_fits_x1_x2_better_than_a_constant_rate_at_equal_steps():
    task = tasks.make("product", n=2)  # y = x_1 x_2
    data = Data.from_draws(
        task.kind, task.sample(4096, 1), task.sample(1024, 3), task.sample(1024, 2)
    )
    lrs = (0.003, 0.01, 0.03, 0.1)
    best = {}
    for schedule in (Schedule("constant"), Schedule()):
        members = [Member(seed, lr, 4096) for seed in range(4) for lr in lrs]
        model = MLP((1, 2), 1, 2, 20, members=len(members))
        model.reset_parameters(list(range(len(members))))
        out = train_group(model, data, members, 1000, 64, schedule)
        # the best rate of each schedule, by the median over seeds of the training loss
        best[schedule.name] = np.median(out.train_loss.reshape(4, len(lrs)), axis=0).min()
    assert best["cosine"] < 0.8 * best["constant"], best


@pytest.mark.parametrize("name", ["cosine", "linear"])
def test_decaying_schedules_warm_up_then_decay_to_the_final_fraction(name):
    f = Schedule(name, warmup=0.1, final=0.01).factors(1000).numpy()
    assert f.shape == (1000,) and f[0] == pytest.approx(0.01) and f[99] == pytest.approx(1.0)
    assert (np.diff(f[:100]) > 0).all() and (np.diff(f[100:]) <= 0).all()
    assert f[-1] == pytest.approx(0.01)
    assert (Schedule("constant").factors(7).numpy() == 1).all()


def test_the_loss_record_has_windows_ending_in_the_last_two_tenths():
    marks = checkpoints(3000)
    assert marks[0] == 1 and marks[-3:] == [2400, 2700, 3000] and marks == sorted(set(marks))
    assert checkpoints(1) == [1]


def test_converged_means_a_flat_last_tenth_or_a_fitted_training_set():
    curve = np.array(
        [
            [1.0, 0.5, 0.400, 0.399],  # flat: converged
            [1.0, 0.5, 0.400, 0.300],  # still falling: not converged
            [1.0, 0.1, 0.010, 0.0005],  # falling but fitted: converged
            [1.0, 0.5, 0.400, 0.399],
        ]
    )  # flat but diverged
    chance = np.ones(4)
    assert converged(curve, np.array([False, False, False, True]), chance).tolist() == [
        True,
        False,
        True,
        False,
    ]


def test_a_plateau_at_chance_under_a_cosine_tail_is_not_converged():
    """The sawtooth cells at chance: under a cosine tail the last tenth runs at under 4%
    of the peak rate, so the loss is flat whatever the net could still learn."""
    factors = Schedule("cosine", 0.05, 0.01).factors(3000).numpy()
    assert factors[-300:].max() < 0.04  # the tail the flat-last-tenth rule cannot see past
    stuck = np.array([[0.70, 0.6932, 0.6931, 0.6931]])  # cross-entropy at log 2: chance
    learnt = np.array([[0.70, 0.300, 0.2000, 0.1999]])
    chance = np.array([np.log(2)])
    assert not converged(stuck, np.array([False]), chance)[0]
    assert converged(learnt, np.array([False]), chance)[0]


def test_rows_carry_the_loss_curve_and_the_flag(make_cfg):
    rows = run(make_cfg("task.n=2", "train.steps=200"))
    assert (rows["loss_steps"].map(list) == [checkpoints(200)] * len(rows)).all()
    curves = np.stack(rows["loss_curve"].to_list())
    assert curves.shape == (len(rows), len(checkpoints(200))) and np.isfinite(curves).all()
    assert (curves[:, -1] < curves[:, 0]).all()  # every member learned something
    assert rows["converged"].dtype == "boolean" and rows["val_metric"].notna().all()

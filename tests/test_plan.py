"""``depthbench plan``: the jobs a sweep launches, their counts, the cost models fitted to
a probe and to the committed GPU benchmark, and bad input in one line."""

import json

import numpy as np
import pytest

from depthbench import config, grid, plan, tasks, trainer
from depthbench.experiments import compose_job, jobs

# a cost given, so that a test trains nothing: 1 ms + 0.1 ms a layer + 10 GFLOP/s
GIVEN = plan.Cost(1e-3, 1e-4, 1e-10, "test machine", "given")


def test_the_jobs_of_a_declared_sweep():
    launched = plan.sweep_jobs(["experiment=lin_tegmark_product"])
    assert sorted(map(sorted, launched)) == sorted(map(sorted, jobs("lin_tegmark_product")))
    assert [o for job in launched for o in job if o.startswith("task.n=")] == [
        "task.n=4",
        "task.n=6",
        "task.n=8",
    ]


def test_a_command_line_sweep_adds_or_replaces_an_axis_and_a_plain_override_fixes_it():
    assert plan.sweep_jobs(["-m", "experiment=quick", "task.n=4,6"]) == [
        ["experiment=quick", "task.n=4"],
        ["experiment=quick", "task.n=6"],
    ]
    replaced = plan.sweep_jobs(["experiment=lin_tegmark_product", "task.n=5,7"])
    assert [job[0] for job in replaced] == ["task.n=5", "task.n=7"]
    assert len(plan.sweep_jobs(["experiment=lin_tegmark_product", "data_seed=0,1"])) == 6
    assert plan.sweep_jobs(["experiment=lin_tegmark_product", "task.n=5"]) == [
        ["task.n=5", "experiment=lin_tegmark_product"]
    ]


def test_models_groups_steps_and_flops_are_the_grids():
    job = plan.plan_job(["experiment=smoke"])
    spec = config.parse(compose_job(["experiment=smoke"]))
    task = tasks.make(spec.task, **spec.task_params)
    runs = [r for r in grid.plan(spec, task.input_shape, task.output_dim) if r.fit.feasible]
    samples = spec.train.batch_size * spec.train.steps
    assert job.models == len(runs) == 8
    assert len(job.groups) == len(grid.groups(runs)) == 4
    assert job.steps == 4 * spec.train.steps
    assert job.flops == sum(trainer.train_flops(r.fit.n_params, samples) for r in runs)
    per_step = [
        GIVEN.a + GIVEN.b * depth + GIVEN.c * 6 * sum(r.fit.n_params for r in members) * 64
        for (depth, _, _), members in grid.groups(runs).items()
    ]
    assert job.wall_s(GIVEN) == pytest.approx(spec.train.steps * sum(per_step))


def test_the_best_effort_bound_is_steps_factor_times_the_chosen_rate_members():
    job = plan.plan_job(jobs("lin_tegmark_product")[0])
    be, train = job.spec.best_effort, job.spec.train
    assert job.refits and be.steps_factor == 4
    assert job.refit_steps() == 4 * train.steps * len(job.groups)
    assert job.refit_flops() == pytest.approx(4 * job.flops / len(job.spec.grid.lrs))
    assert not plan.plan_job(["experiment=smoke"]).refits


def test_the_fit_recovers_a_known_cost():
    a, b, c = 2e-3, 5e-4, 1 / 20e9
    samples = [(d, f, a + b * d + c * f) for d in (1, 2, 4, 6) for f in (1e6, 1e8, 1e10)]
    cost = plan.Cost.fit(samples, "x", "y")
    assert (cost.a, cost.b, cost.c) == pytest.approx((a, b, c), rel=1e-6)


def test_the_fit_is_non_negative_where_least_squares_is_not():
    # deeper is cheaper here: unconstrained least squares gives b < 0
    samples = [(d, f, 5e-3 - 1e-3 * d + 1e-10 * f) for d in (1, 4) for f in (1e6, 1e9)]
    cost = plan.Cost.fit(samples, "x", "y")
    assert cost.b == 0 and cost.a > 0 and cost.c > 0


@pytest.mark.parametrize("seed", range(5))
def test_nnls_meets_the_optimality_conditions(seed):
    # x >= 0 minimises |Ax - y| iff the gradient A'(Ax - y) is >= 0, and 0 where x > 0
    rng = np.random.default_rng(seed)
    rows, target = rng.normal(size=(12, 3)), rng.normal(size=12)
    x = plan.nnls(rows, target)
    gradient = rows.T @ (rows @ x - target)
    assert (x >= 0).all() and (gradient > -1e-9).all()
    assert np.abs(gradient[x > 0]).max(initial=0) < 1e-9
    assert (x == 0).any() == (np.linalg.lstsq(rows, target, rcond=None)[0] < 0).any()


def test_the_gpu_reference_is_fitted_to_the_committed_benchmark(tmp_path):
    measured = json.loads(plan.gpu_json().read_text())
    (bench,) = [b for b in measured["benchmarks"] if b["name"] == plan.GPU_BENCHMARK]
    info = bench["extra_info"]
    cost = plan.reference()
    assert cost is not None
    assert cost.device == info["device_name"] == "NVIDIA H100 80GB HBM3"
    assert measured["datetime"][:10] in cost.basis
    errors = []
    for cell in info["cells"]:
        seconds = cell["ours_s"] / info["steps"]
        predicted = cost.step_s(cell["depth"], cell["ours_flops"] * seconds)
        errors.append(abs(predicted / seconds - 1))
    assert np.median(errors) < 0.1 and max(errors) < 0.5
    assert plan.reference(tmp_path / "absent.json") is None


def test_the_probe_picks_the_extremes_and_caps_large_groups():
    job = plan.plan_job(["experiment=smoke"])
    picked = plan.probe_groups(job.chunks)
    assert [(g.depth, g.width) for g in picked] == [(1, 30), (1, 100), (2, 13), (2, 27)]
    assert plan.probe_steps(picked[0]) == plan.PROBE_STEPS
    huge = plan.Group(1, 1, picked[0].runs, 100 * plan.PROBE_FLOPS)
    assert plan.probe_steps(huge) == 1


def test_main_measures_this_machine_and_writes_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert plan.main(["experiment=smoke"]) == 0
    out = capsys.readouterr().out
    assert "experiment=smoke" in out and "fitted to 4 groups of job 1" in out
    assert "NVIDIA H100 80GB HBM3" in out and "not in the times: baselines" in out
    assert list(tmp_path.iterdir()) == []  # no results directory, no Hydra outputs


def test_main_prints_every_job_and_the_bound(capsys):
    assert plan.main(["experiment=lin_tegmark_product"], GIVEN) == 0
    out = capsys.readouterr().out
    assert out.count("experiment=lin_tegmark_product") == 3
    assert "a bound, not an estimate" in out and "here: test machine" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["experiment=smok"],
        ["--experiment", "smoke"],
        ["=5"],
        ["experiment=smoke", "train.lr=0.1"],
        ["experiment=smoke", "task.n=3,99"],
    ],
)
def test_bad_input_is_one_line_and_status_2(argv, capsys):
    assert plan.main(argv, GIVEN) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("error: ") and captured.err.count("\n") == 1

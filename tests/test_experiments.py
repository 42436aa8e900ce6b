"""Every experiment config composes, validates, can draw its data, and has trainable
(or constructible) runs in every job of its sweep, at CPU and full size."""

import pytest

from depthbench import config, grid, tasks
from depthbench.experiments import compose_job, conf_dir, jobs

EXPERIMENTS = sorted(p.stem for p in (conf_dir() / "experiment").glob("*.yaml"))


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_job_of_the_sweep_has_work(experiment):
    launched = jobs(experiment)
    assert launched
    for overrides in launched:
        spec = config.parse(compose_job(overrides))
        task = tasks.make(spec.task, **spec.task_params)
        task.check_draw(max(spec.grid.n_train), spec.train.n_val, spec.train.n_test)
        feasible = [r for r in grid.plan(spec, task.input_shape, task.output_dim) if r.fit.feasible]
        assert feasible or spec.constructions, overrides


def test_each_literature_experiment_has_a_full_size():
    base = [
        e for e in EXPERIMENTS if not e.endswith("_full") and e not in ("smoke", "quick", "oracles")
    ]
    assert len(base) == 9 and all(f"{e}_full" in EXPERIMENTS for e in base)

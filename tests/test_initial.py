"""The initial networks (``train.init``): the default, and kinks placed on the data."""

import pytest
import torch

from depthbench import config, tasks
from depthbench.errors import ConfigError
from depthbench.grid import plan
from depthbench.initial import build_group, check_init
from depthbench.run import run


def _first_layer_kinks(make_cfg, init: str, *overrides: str) -> tuple[torch.Tensor, float, float]:
    """The first-layer kinks -b/w of every unit of a 1-input sawtooth group on [0, 1]."""
    spec = config.parse(make_cfg("task=sawtooth", f"train.init={init}", *overrides))
    task = tasks.make(spec.task, **spec.task_params)
    runs = [r for r in plan(spec, task.input_shape, task.output_dim) if r.fit.feasible]
    depth, width = runs[0].depth, runs[0].fit.width
    assert width is not None
    group = [r for r in runs if (r.depth, r.fit.width) == (depth, width)]
    model = build_group(spec, task, depth, width, group, "cpu")
    weight, bias = model.layers()[0]
    return (-bias[:, 0, :] / weight[:, 0, :]).flatten(), 0.0, 1.0


def test_kinks_init_puts_every_first_layer_kink_inside_the_input_range(make_cfg):
    kinks, low, high = _first_layer_kinks(make_cfg, "kinks", "grid.budgets=[200]")
    assert kinks.numel() >= 30
    assert ((kinks > low) & (kinks < high)).all()


def test_the_default_init_leaves_kinks_outside_the_input_range(make_cfg):
    # the control for the test above: it can fail, because torch's default does not
    # place the kinks (about half of them lie outside [0, 1] under U(-1, 1) w and b)
    kinks, low, high = _first_layer_kinks(make_cfg, "default", "grid.budgets=[200]")
    outside = ((kinks <= low) | (kinks >= high)).float().mean()
    assert outside > 0.25


def test_kinks_keep_the_weights_and_depend_on_the_member_not_its_group(make_cfg):
    spec = config.parse(make_cfg("task=product", "task.n=3", "train.init=kinks"))
    task = tasks.make(spec.task, **spec.task_params)
    runs = [r for r in plan(spec, task.input_shape, task.output_dim) if r.fit.feasible]
    first = runs[0]
    assert first.fit.width is not None
    same = [r for r in runs if (r.depth, r.fit.width) == (first.depth, first.fit.width)]
    assert len(same) >= 2
    alone = build_group(spec, task, first.depth, first.fit.width, [same[-1]], "cpu")
    grouped = build_group(spec, task, first.depth, first.fit.width, same, "cpu")
    for mine, theirs in zip(alone.parameters(), grouped.parameters()):
        torch.testing.assert_close(mine[0], theirs[-1], rtol=0, atol=0)
    default = build_group(
        config.parse(make_cfg("task=product", "task.n=3")), task, first.depth,
        first.fit.width, same, "cpu",
    )  # fmt: skip
    torch.testing.assert_close(default.layers()[0][0], grouped.layers()[0][0], rtol=0, atol=0)
    assert not torch.equal(default.layers()[0][1], grouped.layers()[0][1])


def test_kinks_need_a_dense_first_layer_and_are_refused_by_name_otherwise(make_cfg):
    with pytest.raises(ConfigError, match=r"^train.init: kinks needs a model with a dense"):
        check_init("kinks", "tree")
    with pytest.raises(ConfigError, match=r"^train.init: must be one of default, kinks"):
        config.parse(make_cfg("train.init=spread"))


def test_a_kinks_run_has_cell_ids_of_its_own_and_the_default_keeps_its_own(make_cfg, tmp_path):
    default = run(make_cfg("task=product", "task.n=3", f"results_dir={tmp_path / 'a'}"))
    kinks = run(
        make_cfg("task=product", "task.n=3", "train.init=kinks", f"results_dir={tmp_path / 'b'}")
    )
    assert not set(default["cell_id"]) & set(kinks["cell_id"])

"""The networks a group starts from (built for the task, initialised member by member),
and their training from there.

``train.init`` chooses the initialisation: ``default`` (``torch.nn.Linear``'s
distribution, :meth:`~depthbench.models.BatchedModel.reset_parameters`) or ``kinks``
(the same, then every first-layer unit's kink moved onto an input drawn from the
task's own input distribution, :func:`~depthbench.models.init.kinks_init_`; dense
first layers only). Both depend on a member's seed alone, never on its group.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from depthbench import config, models
from depthbench.errors import ConfigError
from depthbench.grid import Run
from depthbench.models import BatchedModel
from depthbench.seeding import derive_seed
from depthbench.tasks import Task
from depthbench.trainer import Data, GroupResult, Sampler, train_group


def check_init(init: str, model: str) -> None:
    """Raise :class:`~depthbench.errors.ConfigError` if ``model`` cannot start from ``init``
    (a :data:`~depthbench.config.INITS` value)."""
    if init == "kinks" and not models.model_class(model).dense_input:
        dense = ", ".join(n for n, c in models.MODELS.items() if c.dense_input)
        raise ConfigError(
            "train.init",
            f"kinks needs a model with a dense first layer ({dense}), got model={model}",
        )


def build_group(
    spec: config.RunSpec,
    task: Task,
    depth: int,
    width: int,
    members: Sequence[Run],
    device: torch.device | str,
) -> BatchedModel:
    """The initial networks of ``members`` (one shape), on ``device``."""
    model = models.build(
        spec.model,
        input_shape=task.input_shape,
        output_dim=task.output_dim,
        depth=depth,
        width=width,
        members=len(members),
        **spec.model_params,
    )
    seeds = [derive_seed(r.member.seed, "init") for r in members]
    model.reset_parameters(seeds)
    if spec.train.init == "kinks":
        anchors = [task.sample(width, derive_seed(s, "kinks"))[0] for s in seeds]
        model.place_kinks(torch.stack(anchors))
    return model.to(device)


def train_fresh(
    spec: config.RunSpec,
    task: Task,
    data: Data,
    shape: tuple[int, int],
    members: Sequence[Run],
    steps: int,
    online: Sampler | None,
    on_steps: Callable[[int], None] = lambda n: None,
) -> tuple[BatchedModel, GroupResult]:
    """Build the initial networks of ``members`` (``shape``: depth, width) on the data's
    device and train them ``steps`` steps under ``spec.train``; ``online`` samples an
    online group's minibatches."""
    model = build_group(spec, task, *shape, members, data.x_train.device)
    outcome = train_group(
        model,
        data,
        [r.member for r in members],
        steps,
        spec.train.batch_size,
        spec.train.schedule,
        on_steps=on_steps,
        cuda_graph=spec.train.cuda_graph,
        online=online,
        optimizer_spec=spec.train.optimizer,
    )
    return model, outcome

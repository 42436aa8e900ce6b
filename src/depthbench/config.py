"""The run config, validated: Hydra's ``DictConfig`` -> plain frozen dataclasses.

The YAML under ``conf/`` is the one owner of the config schema: it holds every key
with its default. This module is its typed reader: it declares the keys it reads
(:data:`TOP_KEYS`, :data:`SECTION_KEYS`, equal to the YAML's, as a test checks),
refuses unknown ones, and gives no defaults of its own (:func:`need`).

Every check raises :class:`~depthbench.errors.ConfigError` naming the key, so a bad
value stops the job before anything is trained or written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from omegaconf import DictConfig, OmegaConf

from depthbench.errors import ConfigError
from depthbench.optim import OPTIMIZERS, Optimizer
from depthbench.schedule import SCHEDULES, Schedule
from depthbench.validate import (
    SEED_MAX,
    check_bool,
    check_choice,
    check_float,
    check_int,
    check_positive,
    reject_unknown,
)

DEVICES = ("auto", "cpu", "cuda")
ONLINE = 0  # grid.n_train "online": fresh samples from the generator for every minibatch
EPS_SCALES = ("chance", "bayes", "absolute")
MAX_SEEDS = 10_000  # grid.seeds: replicates per cell
MAX_STEPS = 10**9  # train.steps
MAX_MEMORY_GB = 2.0**20  # train.memory_gb: a petabyte, beyond any machine


@dataclass(frozen=True)
class GridSpec:
    """The axes of one job's grid (``grid.*``); ``seeds`` is a count: seeds 0..seeds-1.
    ``n_train`` holds :data:`ONLINE` (0) for ``online`` (a fresh draw for every minibatch)."""

    depths: tuple[int, ...]
    budgets: tuple[int, ...]
    seeds: int
    lrs: tuple[float, ...]
    n_train: tuple[int, ...]


@dataclass(frozen=True)
class TrainSpec:
    """``train.*``: optimisation and evaluation settings shared by the whole grid."""

    steps: int
    batch_size: int
    schedule: Schedule
    n_val: int
    n_test: int
    device: str
    progress: bool
    memory_gb: float
    max_members: int | None
    tf32: bool
    cuda_graph: bool
    threads: int | None
    optimizer: Optimizer
    init: str


@dataclass(frozen=True)
class ReportSpec:
    """``report.*``: thresholds declared with the experiment, before its run, and stored
    in every row. ``eps_scale``: ``chance`` (eps x chance level), ``bayes`` (the Bayes
    error plus eps x the gap from it to chance), ``absolute`` (test_metric values), or
    ``None`` for the task's own (:attr:`depthbench.tasks.Task.eps_scale`). ``regime``:
    where the declared eps sit against the regime the tested theorem speaks of, in words
    (``None``: not stated); every report's header repeats it."""

    eps: tuple[float, ...]
    eps_scale: str | None
    regime: str | None = None


#: ``train.init``: the default initialisation, or first-layer kinks on the data
#: (:mod:`depthbench.initial`)
INITS = ("default", "kinks")

BEST_EFFORT_CELLS = ("none", "deciding", "all")


@dataclass(frozen=True)
class BestEffortSpec:
    """``best_effort.*``: which cells the best-effort fit refits (``none``,
    ``deciding``, ``all``; :mod:`depthbench.refit`), its steps check's multiple of
    ``train.steps``, its L-BFGS iterations, the polish draw of online members
    (samples a parameter, and at most), and the basin rows of the constructions
    (:mod:`depthbench.basin`): their relative noise scales and seeds per scale."""

    cells: str
    steps_factor: int
    polish_iters: int
    polish_per_param: int
    polish_max: int
    basin_noise: tuple[float, ...]
    basin_seeds: int


@dataclass(frozen=True)
class RunSpec:
    """Everything one job needs, validated."""

    task: str
    task_params: dict[str, Any]
    model: str
    model_params: dict[str, Any]
    grid: GridSpec
    train: TrainSpec
    data_seed: int
    results_dir: Path
    constructions: bool
    baselines: bool
    report: ReportSpec
    plugins: tuple[str, ...]
    best_effort: BestEffortSpec

    def identity(self) -> dict[str, Any]:
        """The settings that change a trained model's numbers (hashed into ``cell_id``).

        Device, progress display and results location are left out: they do not
        define the experiment.
        """
        return {
            "task": self.task,
            "task_params": self.task_params,
            "model": self.model,
            "model_params": self.model_params,
            "data_seed": self.data_seed,
            "steps": self.train.steps,
            "batch_size": self.train.batch_size,
            "schedule": [
                self.train.schedule.name,
                self.train.schedule.warmup,
                self.train.schedule.final,
            ],
            "n_val": self.train.n_val,
            "n_test": self.train.n_test,
            # TF32 matmuls change CUDA numbers; the key is absent when off so that
            # full-precision runs keep the ids they always had (so do plain Adam's and the
            # default init's)
            **({"tf32": True} if self.train.tf32 else {}),
            **self.train.optimizer.identity,
            **({"init": self.train.init} if self.train.init != "default" else {}),
        }


def need(section: dict[str, Any], key: str) -> Any:
    """``section``'s value of ``key`` (its last dotted part): every key has its default
    in the YAML under ``conf/``, so a missing one is an error, never a default here."""
    name = key.rpartition(".")[2]
    if name not in section:
        raise ConfigError(
            key,
            "missing; every key has its default in the YAML under conf/ "
            "(an experiment that deletes one must set it)",
        )
    return section[name]


def _optional_int(section: dict[str, Any], key: str) -> int | None:
    value = need(section, key)
    return None if value is None else check_int(key, value, 1)


def _as_list_hint(key: str, value: Any) -> str:
    """``; write key=[value]`` where a single value was given for a list."""
    return f"; write {key}=[{value}]" if isinstance(value, (int, float, str)) else ""


def _int_list(key: str, value: Any, low: int = 1, empty: bool = False) -> tuple[int, ...]:
    if not isinstance(value, list) or not (value or empty):
        raise ConfigError(
            key,
            f"must be a non-empty list of integers >= {low}, got {value!r}"
            + _as_list_hint(key, value),
        )
    return tuple(sorted({check_int(key, v, low) for v in value}))


def _n_train_list(value: Any) -> tuple[int, ...]:
    """Training-set sizes (integers >= 1) or ``online`` (:data:`ONLINE`)."""
    if isinstance(value, list) and "online" in value:
        rest = [v for v in value if v != "online"]
        return (ONLINE, *(_int_list("grid.n_train", rest) if rest else ()))
    return _int_list("grid.n_train", value)


def _lr_list(key: str, value: Any) -> tuple[float, ...]:
    if not isinstance(value, list) or not value:
        raise ConfigError(
            key,
            f"must be a non-empty list of positive numbers, got {value!r}"
            + _as_list_hint(key, value),
        )
    return tuple(sorted({check_positive(key, v) for v in value}))


def _schedule(train: dict[str, Any]) -> Schedule:
    name = check_choice("train.schedule", need(train, "train.schedule"), SCHEDULES)
    warmup = check_float("train.warmup", need(train, "train.warmup"))
    if not 0 <= warmup < 1:
        raise ConfigError(
            "train.warmup", f"must be a fraction of the steps in [0, 1), got {warmup}"
        )
    final = check_float("train.final_lr", need(train, "train.final_lr"))
    if not 0 <= final <= 1:
        raise ConfigError(
            "train.final_lr", f"must be a fraction of the peak rate in [0, 1], got {final}"
        )
    return Schedule(name, warmup, final)


def _optimizer(train: dict[str, Any]) -> Optimizer:
    stop = need(train, "train.stop_loss")
    return Optimizer(
        name=check_choice("train.optimizer", need(train, "train.optimizer"), OPTIMIZERS),
        momentum=check_float("train.momentum", need(train, "train.momentum")),
        weight_decay=check_float("train.weight_decay", need(train, "train.weight_decay")),
        stop_loss=None if stop is None else check_float("train.stop_loss", stop),
    )


def _report(raw: dict[str, Any]) -> ReportSpec:
    section = need(raw, "report")
    if not isinstance(section, dict):
        raise ConfigError("report", f"must be a group with eps and eps_scale, got {section!r}")
    eps = need(section, "report.eps")
    if not isinstance(eps, list) or not eps:
        raise ConfigError(
            "report.eps", f"must be a non-empty list of positive thresholds, got {eps!r}"
        )
    scale = need(section, "report.eps_scale")
    regime = need(section, "report.regime")
    if regime is not None and not (isinstance(regime, str) and regime.strip()):
        raise ConfigError("report.regime", f"must be a sentence or null, got {regime!r}")
    return ReportSpec(
        eps=tuple(sorted({check_positive("report.eps", e) for e in eps}, reverse=True)),
        eps_scale=None if scale is None else check_choice("report.eps_scale", scale, EPS_SCALES),
        regime=None if regime is None else " ".join(regime.split()),
    )


def _best_effort(raw: dict[str, Any]) -> BestEffortSpec:
    section = _section(raw, "best_effort")
    return BestEffortSpec(
        cells=check_choice(
            "best_effort.cells", need(section, "best_effort.cells"), BEST_EFFORT_CELLS
        ),
        steps_factor=check_int(
            "best_effort.steps_factor", need(section, "best_effort.steps_factor"), 1
        ),
        polish_iters=check_int(
            "best_effort.polish_iters", need(section, "best_effort.polish_iters"), 1
        ),
        polish_per_param=check_int(
            "best_effort.polish_per_param", need(section, "best_effort.polish_per_param"), 1
        ),
        polish_max=check_int("best_effort.polish_max", need(section, "best_effort.polish_max"), 2),
        basin_noise=_noise_list(need(section, "best_effort.basin_noise")),
        basin_seeds=check_int(
            "best_effort.basin_seeds", need(section, "best_effort.basin_seeds"), 1
        ),
    )


def _noise_list(value: Any) -> tuple[float, ...]:
    """``best_effort.basin_noise``: relative noise scales, positive (empty: no basin rows)."""
    if not isinstance(value, list):
        raise ConfigError(
            "best_effort.basin_noise", f"must be a list of positive numbers, got {value!r}"
        )
    return tuple(sorted({check_positive("best_effort.basin_noise", v) for v in value}))


def _section(cfg: dict[str, Any], key: str) -> dict[str, Any]:
    section = cfg.get(key)
    if not isinstance(section, dict):
        raise ConfigError(key, f"missing config group (got {section!r})")
    return dict(section)


TOP_KEYS = {
    "task",
    "model",
    "grid",
    "train",
    "report",
    "results_dir",
    "data_seed",
    "constructions",
    "baselines",
    "fail_fast",
    "plugins",
    "best_effort",
    "hydra",
}
SECTION_KEYS = {
    "grid": {"depths", "budgets", "seeds", "lrs", "n_train"},
    "train": {
        "steps",
        "batch_size",
        "schedule",
        "warmup",
        "final_lr",
        "n_val",
        "n_test",
        "device",
        "progress",
        "memory_gb",
        "max_members",
        "tf32",
        "cuda_graph",
        "threads",
        "optimizer",
        "momentum",
        "weight_decay",
        "stop_loss",
        "init",
    },
    "report": {"eps", "eps_scale", "regime"},
    "best_effort": {
        "cells",
        "steps_factor",
        "polish_iters",
        "polish_per_param",
        "polish_max",
        "basin_noise",
        "basin_seeds",
    },
}


def _reject_unknown_keys(raw: dict[str, Any]) -> None:
    """A misspelt or invented key (``+train.lr=...``) is an error, not a silent no-op;
    ``task.*`` and ``model.*`` are checked by their families."""
    unknown = sorted(set(raw) - TOP_KEYS)
    if unknown:
        raise ConfigError(
            unknown[0], f"unknown key; allowed: {', '.join(sorted(TOP_KEYS - {'hydra'}))}"
        )
    for name, allowed in SECTION_KEYS.items():
        if isinstance(raw.get(name), dict):
            reject_unknown(name, allowed, raw[name])


def parse(cfg: DictConfig) -> RunSpec:
    """Validate a composed run config; raises :class:`ConfigError` on the first problem."""
    container = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(container, dict)
    raw = cast("dict[str, Any]", container)  # a composed config's keys are strings
    _reject_unknown_keys(raw)
    task, model = _section(raw, "task"), _section(raw, "model")
    grid, train = _section(raw, "grid"), _section(raw, "train")
    device = check_choice("train.device", need(train, "train.device"), DEVICES)
    constructions = check_bool("constructions", need(raw, "constructions"))
    check_bool("fail_fast", need(raw, "fail_fast"))
    results_dir = need(raw, "results_dir")
    if not isinstance(results_dir, str) or not results_dir:
        raise ConfigError("results_dir", f"must be a path, got {results_dir!r}")
    return RunSpec(
        task=str(task.pop("name", None)),
        task_params=task,
        model=str(model.pop("name", None)),
        model_params=model,
        grid=GridSpec(
            # no depths (train nothing) only makes sense when constructing networks
            depths=_int_list("grid.depths", need(grid, "grid.depths"), empty=constructions),
            budgets=_int_list("grid.budgets", need(grid, "grid.budgets")),
            seeds=check_int("grid.seeds", need(grid, "grid.seeds"), 1, MAX_SEEDS),
            lrs=_lr_list("grid.lrs", need(grid, "grid.lrs")),
            n_train=_n_train_list(need(grid, "grid.n_train")),
        ),
        train=TrainSpec(
            steps=check_int("train.steps", need(train, "train.steps"), 1, MAX_STEPS),
            batch_size=check_int("train.batch_size", need(train, "train.batch_size"), 1),
            schedule=_schedule(train),
            n_val=check_int("train.n_val", need(train, "train.n_val"), 2),
            n_test=check_int("train.n_test", need(train, "train.n_test"), 2),
            device=device,
            progress=check_bool("train.progress", need(train, "train.progress")),
            memory_gb=check_positive(
                "train.memory_gb", need(train, "train.memory_gb"), MAX_MEMORY_GB
            ),
            max_members=_optional_int(train, "train.max_members"),
            tf32=check_bool("train.tf32", need(train, "train.tf32")),
            cuda_graph=check_bool("train.cuda_graph", need(train, "train.cuda_graph")),
            threads=_optional_int(train, "train.threads"),
            optimizer=_optimizer(train),
            init=check_choice("train.init", need(train, "train.init"), INITS),
        ),
        data_seed=check_int("data_seed", need(raw, "data_seed"), 0, SEED_MAX),
        results_dir=Path(results_dir),
        constructions=constructions,
        baselines=check_bool("baselines", need(raw, "baselines")),
        report=_report(raw),
        plugins=_plugins(need(raw, "plugins")),
        best_effort=_best_effort(raw),
    )


def _plugins(value: Any) -> tuple[str, ...]:
    """Module names (``plugins``) imported before the run: their task families and
    models register themselves by subclassing (docs/extending.md)."""
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError("plugins", f"must be a list of importable module names, got {value!r}")
    return tuple(value)

"""The run config, validated: Hydra's ``DictConfig`` -> plain frozen dataclasses.

Every check raises :class:`~depthbench.errors.ConfigError` naming the key, so a bad
value stops the job before anything is trained or written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from depthbench.errors import ConfigError
from depthbench.schedule import SCHEDULES, Schedule
from depthbench.validate import (check_bool, check_choice, check_float, check_int, check_positive,
                                 reject_unknown)

DEVICES = ("auto", "cpu", "cuda")
ONLINE = 0  # grid.n_train "online": fresh samples from the generator for every minibatch
EPS_SCALES = ("chance", "bayes", "absolute")


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


@dataclass(frozen=True)
class ReportSpec:
    """``report.*``: thresholds declared with the experiment, before its run, and stored
    in every row. ``eps_scale``: ``chance`` (eps x chance level), ``bayes`` (the Bayes
    error plus eps x the gap from it to chance), ``absolute`` (test_metric values), or
    ``None`` for the task's own (:attr:`depthbench.tasks.Task.eps_scale`)."""

    eps: tuple[float, ...]
    eps_scale: str | None


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
            "schedule": [self.train.schedule.name, self.train.schedule.warmup,
                         self.train.schedule.final],
            "n_val": self.train.n_val,
            "n_test": self.train.n_test,
            # TF32 matmuls change CUDA numbers; the key is absent when off so that
            # full-precision runs keep the ids they always had
            **({"tf32": True} if self.train.tf32 else {}),
        }


def _int_list(key: str, value: Any, low: int = 1, empty: bool = False) -> tuple[int, ...]:
    if not isinstance(value, list) or not (value or empty):
        raise ConfigError(key, f"must be a non-empty list of integers >= {low}, got {value!r}")
    return tuple(sorted({check_int(key, v, low) for v in value}))


def _n_train_list(value: Any) -> tuple[int, ...]:
    """Training-set sizes (integers >= 1) or ``online`` (:data:`ONLINE`)."""
    if isinstance(value, list) and "online" in value:
        rest = [v for v in value if v != "online"]
        return (ONLINE, *(_int_list("grid.n_train", rest) if rest else ()))
    return _int_list("grid.n_train", value)


def _lr_list(key: str, value: Any) -> tuple[float, ...]:
    if not isinstance(value, list) or not value:
        raise ConfigError(key, f"must be a non-empty list of positive numbers, got {value!r}")
    return tuple(sorted({check_positive(key, v) for v in value}))


def _schedule(train: dict[str, Any]) -> Schedule:
    name = check_choice("train.schedule", train.get("schedule", "cosine"), SCHEDULES)
    warmup = check_float("train.warmup", train.get("warmup", 0.05))
    if not 0 <= warmup < 1:
        raise ConfigError("train.warmup", f"must be a fraction of the steps in [0, 1), got {warmup}")
    final = check_float("train.final_lr", train.get("final_lr", 0.01))
    if not 0 <= final <= 1:
        raise ConfigError("train.final_lr", f"must be a fraction of the peak rate in [0, 1], got {final}")
    return Schedule(name, warmup, final)


def _report(raw: dict[str, Any]) -> ReportSpec:
    section = raw.get("report", {})
    if not isinstance(section, dict):
        raise ConfigError("report", f"must be a group with eps and eps_scale, got {section!r}")
    eps = section.get("eps")
    if not isinstance(eps, list) or not eps:
        raise ConfigError("report.eps", f"must be a non-empty list of positive thresholds, got {eps!r}")
    scale = section.get("eps_scale")
    return ReportSpec(
        eps=tuple(sorted({check_positive("report.eps", e) for e in eps}, reverse=True)),
        eps_scale=None if scale is None else check_choice("report.eps_scale", scale, EPS_SCALES),
    )


def _section(cfg: dict[str, Any], key: str) -> dict[str, Any]:
    section = cfg.get(key)
    if not isinstance(section, dict):
        raise ConfigError(key, f"missing config group (got {section!r})")
    return dict(section)


TOP_KEYS = {"task", "model", "grid", "train", "report", "results_dir", "data_seed",
            "constructions", "baselines", "fail_fast", "hydra"}
SECTION_KEYS = {
    "grid": {"depths", "budgets", "seeds", "lrs", "n_train"},
    "train": {"steps", "batch_size", "schedule", "warmup", "final_lr", "n_val", "n_test",
              "device", "progress", "memory_gb", "max_members", "tf32", "cuda_graph", "threads"},
    "report": {"eps", "eps_scale"},
}


def _reject_unknown_keys(raw: dict[str, Any]) -> None:
    """A misspelt or invented key (``+train.lr=...``) is an error, not a silent no-op;
    ``task.*`` and ``model.*`` are checked by their families."""
    unknown = sorted(set(raw) - TOP_KEYS)
    if unknown:
        raise ConfigError(unknown[0], f"unknown key; allowed: {', '.join(sorted(TOP_KEYS - {'hydra'}))}")
    for name, allowed in SECTION_KEYS.items():
        if isinstance(raw.get(name), dict):
            reject_unknown(name, allowed, raw[name])


def parse(cfg: DictConfig) -> RunSpec:
    """Validate a composed run config; raises :class:`ConfigError` on the first problem."""
    raw = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(raw, dict)
    _reject_unknown_keys(raw)
    task, model = _section(raw, "task"), _section(raw, "model")
    grid, train = _section(raw, "grid"), _section(raw, "train")
    device = check_choice("train.device", train.get("device"), DEVICES)
    constructions = check_bool("constructions", raw.get("constructions", False))
    check_bool("fail_fast", raw.get("fail_fast", False))
    results_dir = raw.get("results_dir")
    if not isinstance(results_dir, str) or not results_dir:
        raise ConfigError("results_dir", f"must be a path, got {results_dir!r}")
    return RunSpec(
        task=str(task.pop("name", None)),
        task_params=task,
        model=str(model.pop("name", None)),
        model_params=model,
        grid=GridSpec(
            # no depths (train nothing) only makes sense when constructing networks
            depths=_int_list("grid.depths", grid.get("depths"), empty=constructions),
            budgets=_int_list("grid.budgets", grid.get("budgets")),
            seeds=check_int("grid.seeds", grid.get("seeds"), 1),
            lrs=_lr_list("grid.lrs", grid.get("lrs")),
            n_train=_n_train_list(grid.get("n_train")),
        ),
        train=TrainSpec(
            steps=check_int("train.steps", train.get("steps"), 1),
            batch_size=check_int("train.batch_size", train.get("batch_size"), 1),
            schedule=_schedule(train),
            n_val=check_int("train.n_val", train.get("n_val"), 2),
            n_test=check_int("train.n_test", train.get("n_test"), 2),
            device=device,
            progress=check_bool("train.progress", train.get("progress", True)),
            memory_gb=check_positive("train.memory_gb", train.get("memory_gb", 2.0)),
            max_members=None if train.get("max_members") is None
            else check_int("train.max_members", train.get("max_members"), 1),
            tf32=check_bool("train.tf32", train.get("tf32", False)),
            cuda_graph=check_bool("train.cuda_graph", train.get("cuda_graph", True)),
            threads=None if train.get("threads") is None
            else check_int("train.threads", train.get("threads"), 1),
        ),
        data_seed=check_int("data_seed", raw.get("data_seed"), 0),
        results_dir=Path(results_dir),
        constructions=constructions,
        baselines=check_bool("baselines", raw.get("baselines", True)),
        report=_report(raw),
    )

"""``depthbench list``: what the config tree offers, read from ``conf/`` itself: every
option of each config group with the comment it opens with and its settings, and for
each experiment the jobs its sweep launches and the models each job trains."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path
from typing import Any, cast

from omegaconf import DictConfig, OmegaConf

from depthbench.experiments import compose_job, sweep_jobs
from depthbench.models import ACTIVATIONS

GROUPS = ("task", "model", "grid", "train", "experiment")
WIDTH = 100  # columns the descriptions wrap to
GRID_AXES = ("depths", "budgets", "seeds", "lrs", "n_train")  # seeds: a count, others lists


def _summary(path: Path) -> str:
    """The comment block a config file opens with (Hydra directives aside), as one
    paragraph."""
    lines = []
    for line in path.read_text().splitlines():
        if line.startswith("# @package"):
            continue
        if not line.startswith("#"):
            break
        lines.append(line.lstrip("# ").strip())
    return " ".join(line for line in lines if line)


def _wrap(text: str, first: str, indent: int) -> list[str]:
    """``first`` then ``text``, wrapped to :data:`WIDTH` columns, later lines indented
    by ``indent``."""
    return textwrap.wrap(
        text,
        WIDTH,
        initial_indent=first,
        subsequent_indent=" " * indent,
        break_long_words=False,
        break_on_hyphens=False,
    ) or [first.rstrip()]


def _settings(path: Path) -> str:
    """``key=value`` for each setting of a config file (its ``name`` aside)."""
    container = OmegaConf.to_container(OmegaConf.load(path))
    assert isinstance(container, dict)
    cfg = cast("dict[str, Any]", container)  # a YAML mapping's keys: strings
    return " ".join(f"{k}={v}" for k, v in cfg.items() if k not in ("name", "defaults"))


def _models_per_job(cfg: DictConfig) -> str:
    """The models one job of a composed config trains: the product of its grid's axes
    (infeasible widths included: they are recorded, not trained)."""
    grid = cast("dict[str, Any]", OmegaConf.to_container(cfg.grid, resolve=True))
    sizes = {a: grid[a] if a == "seeds" else len(grid[a]) for a in GRID_AXES}
    axes = " x ".join(f"{n} {a}" for a, n in sizes.items())
    return f"{math.prod(sizes.values())} models a job ({axes})"


def _jobs(experiment: str, cfg: DictConfig) -> str:
    """How many jobs ``experiment`` launches, and the sweep that makes them (it needs
    ``depthbench run -m``)."""
    sweep = cfg.hydra.sweeper.params
    n = len(sweep_jobs(experiment, sweep))
    if not sweep:
        return f"{n} job"
    axes = " ".join(f"{k}={v}" for k, v in sweep.items())
    return f"{n} jobs, needs -m ({axes})"


def _experiment(path: Path) -> list[str]:
    """An experiment's lines: its jobs and models a job, then its description."""
    cfg = compose_job([f"experiment={path.stem}"], hydra=True)
    head = f"{path.stem}: {_jobs(path.stem, cfg)}; {_models_per_job(cfg)}"
    return [*_wrap(head, "  ", 8), *_wrap(_summary(path), "      ", 6)]


def _option(path: Path, group: str) -> list[str]:
    """A config group option's lines: its description and settings."""
    lines = _wrap(_summary(path), f"  {path.stem:<12} ", 15)
    if group != "experiment":
        lines += _wrap(_settings(path), " " * 15, 15)
    return lines


def describe(conf: Path) -> str:
    """A text listing of every config group option with its summary and defaults, and
    of every experiment with its jobs, models a job and description."""
    lines = []
    for group in GROUPS:
        lines.append(f"{group}:")
        for path in sorted((conf / group).glob("*.yaml")):
            lines += _experiment(path) if group == "experiment" else _option(path, group)
        if group == "model":
            lines.append(f"  {'':<12} activations: {', '.join(ACTIVATIONS)}")
    return "\n".join(lines)

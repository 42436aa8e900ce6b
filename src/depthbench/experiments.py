"""The Hydra config tree and the experiments in it: where it lives (:func:`conf_dir`),
the config a job's overrides compose to (:func:`compose_job`), and the jobs an
experiment's sweep launches (:func:`jobs`).
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any, cast

from hydra import compose, initialize_config_dir
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import DictConfig, OmegaConf

from depthbench.errors import DepthbenchError


def conf_dir() -> Path:
    """The Hydra config tree: packaged with a wheel, or ``conf/`` of a source checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "conf", here.parents[1] / "conf"):
        if (candidate / "config.yaml").is_file():
            return candidate
    raise DepthbenchError(f"no Hydra config tree found beside {here}")


def compose_job(overrides: list[str], hydra: bool = False) -> DictConfig:
    """The job config ``overrides`` compose to (with Hydra's own under ``hydra``)."""
    with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3"):
        return compose("config", overrides=overrides, return_hydra_config=hydra)


def jobs(experiment: str) -> list[list[str]]:
    """The overrides of every job ``depthbench run -m experiment=EXPERIMENT`` launches:
    the product of the experiment's ``hydra.sweeper.params`` (one job without them)."""
    sweep = compose_job([f"experiment={experiment}"], hydra=True).hydra.sweeper.params
    return sweep_jobs(experiment, sweep)


def sweep_jobs(experiment: str, sweep: DictConfig | None) -> list[list[str]]:
    """The overrides of every job of ``experiment`` whose composed config declares
    ``sweep`` (its ``hydra.sweeper.params``, ``None`` for none): the product of its
    axes."""
    # the sweep's keys are override keys (strings)
    params = cast("dict[str, Any]", OmegaConf.to_container(sweep)) if sweep else {}
    parsed = OverridesParser.create().parse_overrides([f"{k}={v}" for k, v in params.items()])
    axes = [[f"{o.key_or_group}={v}" for v in o.sweep_string_iterator()] for o in parsed]
    return [[f"experiment={experiment}", *combo] for combo in itertools.product(*axes)]


def unswept(sweep: dict[str, Any] | None, overrides: list[str]) -> list[str]:
    """The keys of a declared sweep (``hydra.sweeper.params``) that a single run's
    command-line ``overrides`` leave open: run without ``-m``, each would silently
    take its default, one instance of the sweep. Empty where the experiment declares
    no sweep or the command line fixes every swept key."""
    fixed = {o.split("=", 1)[0].lstrip("+~") for o in overrides}
    return [key for key in (sweep or {}) if key not in fixed]

"""``depthbench list``: what the config tree offers, read from ``conf/`` itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from omegaconf import OmegaConf

from depthbench.models import ACTIVATIONS

GROUPS = ("task", "model", "grid", "train", "experiment")


def _summary(path: Path) -> str:
    """The first comment line of a config file that is not a Hydra directive."""
    for line in path.read_text().splitlines():
        if line.startswith("#") and not line.startswith("# @package"):
            return line.lstrip("# ").strip()
    return ""


def _settings(path: Path) -> str:
    """``key=value`` for each setting of a config file (its ``name`` aside)."""
    container = OmegaConf.to_container(OmegaConf.load(path))
    assert isinstance(container, dict)
    cfg = cast("dict[str, Any]", container)  # a YAML mapping's keys: strings
    return " ".join(f"{k}={v}" for k, v in cfg.items() if k not in ("name", "defaults"))


def describe(conf: Path) -> str:
    """A text listing of every config group option with its summary and defaults."""
    lines = []
    for group in GROUPS:
        lines.append(f"{group}:")
        for path in sorted((conf / group).glob("*.yaml")):
            lines.append(f"  {path.stem:<12} {_summary(path)}")
            if group != "experiment":
                lines.append(f"  {'':<12} {_settings(path)}")
        if group == "model":
            lines.append(f"  {'':<12} activations: {', '.join(ACTIVATIONS)}")
    return "\n".join(lines)

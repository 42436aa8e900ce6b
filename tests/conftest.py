"""Shared fixtures: Hydra's compose API over the real config tree."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from depthbench.experiments import conf_dir


@pytest.fixture
def make_cfg(tmp_path: Path) -> Callable[..., DictConfig]:
    """``make_cfg("task.n=3", ...)``: the smoke experiment composed with overrides,
    writing into a fresh temporary results directory; without baselines (rows of trained
    models only) unless ``baselines=true`` is among the overrides."""

    def _make(*overrides: str) -> DictConfig:
        with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3"):
            return compose(
                "config",
                overrides=["experiment=smoke", f"results_dir={tmp_path / 'results'}",
                           "train.progress=false", "baselines=false", *overrides],
            )

    return _make


def _tree_digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*")) if p.is_file()
    }


@pytest.fixture
def tree_digest() -> Callable[[Path], dict[str, str]]:
    """``tree_digest(root)``: path -> sha256 of every file under ``root``, to check
    that nothing stored changed."""
    return _tree_digest


def _depthbench(*args: str, cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run([sys.executable, "-m", "depthbench.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def depthbench() -> Callable[..., subprocess.CompletedProcess]:
    """``depthbench(*args, cwd=...)``: the real command in a subprocess, as a user runs it."""
    return _depthbench

"""Shared fixtures: Hydra's compose API over the real config tree."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from omegaconf import DictConfig

from depthbench.experiments import compose_job


@pytest.fixture(scope="session")
def smoke() -> Callable[..., DictConfig]:
    """``smoke(results_dir, "task.n=3", ...)``: the smoke experiment composed with
    overrides (:func:`depthbench.experiments.compose_job`), writing into ``results_dir``,
    without progress bars."""

    def _smoke(results_dir: Path, *overrides: str) -> DictConfig:
        return compose_job(
            ["experiment=smoke", f"results_dir={results_dir}", "train.progress=false", *overrides]
        )

    return _smoke


@pytest.fixture
def make_cfg(smoke: Callable[..., DictConfig], tmp_path: Path) -> Callable[..., DictConfig]:
    """``make_cfg("task.n=3", ...)``: :func:`smoke` writing into a fresh temporary
    results directory; without baselines (rows of trained models only) unless
    ``baselines=true`` is among the overrides."""
    return lambda *overrides: smoke(tmp_path / "results", "baselines=false", *overrides)


def _tree_digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def tree_digest() -> Callable[[Path], dict[str, str]]:
    """``tree_digest(root)``: path -> sha256 of every file under ``root``, to check
    that nothing stored changed."""
    return _tree_digest


def _depthbench(*args: str, cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [sys.executable, "-m", "depthbench.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="session")
def depthbench() -> Callable[..., subprocess.CompletedProcess]:
    """``depthbench(*args, cwd=...)``: the real command in a subprocess, as a user runs it."""
    return _depthbench


def _tool(*names: str) -> str:
    """The path of the first of ``names`` installed (a TeX engine, a browser under its
    several names); a test that needs one is skipped where none is installed, and fails
    instead where ``DEPTHBENCH_REQUIRE_TOOLS=1`` (set by ``.ci/run``, which installs
    them), so that CI cannot pass by skipping."""
    found = next((path for path in map(shutil.which, names) if path), None)
    if found is None:
        if os.environ.get("DEPTHBENCH_REQUIRE_TOOLS") == "1":
            pytest.fail(f"{' or '.join(names)} is not installed and DEPTHBENCH_REQUIRE_TOOLS=1")
        pytest.skip(f"{' or '.join(names)} is not installed")
    return found


@pytest.fixture(scope="session")
def tool() -> Callable[..., str]:
    """``tool("pdflatex")``: the path of an external program, as :func:`_tool` finds it."""
    return _tool


CHROMIUM_FLAGS = [  # a closed network: no background connections, no sandbox as root
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SEEN = """() => ({
    images: [...document.images].map(i => [i.getAttribute('src'), i.naturalWidth > 0]),
    items: document.querySelectorAll('ul > li, ol > li').length,
    tables: document.querySelectorAll('table').length,
    headers: document.querySelectorAll('th').length,
    emphasis: document.querySelectorAll('em, strong').length,
    links: [...document.links].map(a => a.getAttribute('href')),
    text: document.body.innerText,
})"""


@pytest.fixture(scope="session")
def seen(tool: Callable[..., str]) -> Iterator[Callable[[Path], dict]]:
    """``seen(page.html)``: what a reader sees of a page in a real headless Chromium
    (the installed one, driven by Playwright), once every image has loaded or failed:
    ``images`` ([src, loaded] each), counts of list ``items``, ``tables``, ``headers``
    and ``emphasis``, the ``links`` and the visible ``text``."""
    chromium = tool("chromium", "chromium-browser", "google-chrome")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)

        def _seen(path: Path) -> dict:
            page = browser.new_page()
            page.goto(path.resolve().as_uri(), wait_until="load")
            found = page.evaluate(SEEN)
            page.close()
            return found

        yield _seen
        browser.close()

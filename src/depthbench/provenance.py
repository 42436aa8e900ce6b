"""Where a result came from: code version, library versions, device, time."""

from __future__ import annotations

import platform
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import torch

import depthbench


def _git(*args: str) -> str | None:
    here = Path(depthbench.__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "-C", str(here), *args], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def collect(device: torch.device) -> dict[str, object]:
    """Provenance columns shared by every row a job writes."""
    sha = _git("rev-parse", "HEAD")
    dirty = _git("status", "--porcelain", "--untracked-files=no")
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
    else:
        name = platform.processor() or platform.machine()
    return {
        "git_sha": sha or "unknown",
        "git_dirty": bool(dirty) if sha else None,
        "package_version": depthbench.__version__,
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
        "device": str(device),  # cpu, or cuda:<index>
        "device_name": name,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }

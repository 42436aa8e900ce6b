"""Seeds and hashes: every random stream and every identity, under one convention.

Both hash a canonical text of their parts with SHA-256. A *seed* (:func:`derive_seed`)
names its purpose in its parts, ``derive_seed(data_seed, "train")`` vs
``derive_seed(data_seed, "test")``, so that streams for different purposes are
unrelated; an *identity* (:func:`digest`) hashes the settings that define a result
(``cell_id``, ``run_id``, file names). Generators are always fresh and seeded
(:func:`generator`), never torch's global one, so a number does not depend on what
ran before it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import torch


def derive_seed(*parts: object) -> int:
    """A 63-bit seed that depends on every part (hashed as their ``repr``).

    ``derive_seed(0, "train")`` and ``derive_seed(0, "test")`` give unrelated
    generators, so train and test draws of a continuous task never share samples.
    """
    hashed = hashlib.sha256(repr(parts).encode()).digest()
    return int.from_bytes(hashed[:8], "little") >> 1


def digest(obj: Any) -> str:
    """A stable 16-hex-digit hash of a JSON-serialisable object (keys sorted)."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def generator(seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    """A fresh ``torch.Generator`` on ``device`` seeded with ``seed``."""
    g = torch.Generator(device=device)
    g.manual_seed(seed)
    return g

"""Checks for user-supplied values; each error names the key and what is allowed."""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable
from typing import Any

from depthbench.errors import ConfigError

INT_MAX = 2**63 - 1  # the largest integer torch and numpy hold (int64)
SEED_MAX = 2**31 - 1  # seeds: what every generator the suite seeds accepts


def check_int(key: str, value: Any, low: int, high: int | None = None) -> int:
    """An integer in ``[low, high]`` (``high`` None: up to :data:`INT_MAX`, said as
    ``>= low``)."""
    allowed = f">= {low}" if high is None else f"in [{low}, {high}]"
    high = INT_MAX if high is None else high
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(key, f"must be an integer {allowed}, got {value!r}")
    if value < low or (high is not None and value > high):
        raise ConfigError(key, f"must be an integer {allowed}, got {value}")
    return value


def check_float(key: str, value: Any) -> float:
    """A finite real number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(key, f"must be a finite number, got {value!r}")
    return float(value)


def check_positive(key: str, value: Any, high: float | None = None) -> float:
    """A finite number > 0 (and at most ``high``, if given)."""
    if check_float(key, value) <= 0:
        raise ConfigError(key, f"must be > 0, got {value}")
    if high is not None and value > high:
        raise ConfigError(key, f"must be at most {high:g}, got {value:g}")
    return float(value)


def check_interval(low_key: str, low: Any, high_key: str, high: Any) -> tuple[float, float]:
    """An input range ``low < high``."""
    lo, hi = check_float(low_key, low), check_float(high_key, high)
    if not lo < hi:
        raise ConfigError(high_key, f"must be greater than {low_key}={lo}, got {hi}")
    return lo, hi


def check_bool(key: str, value: Any) -> bool:
    """``true`` or ``false`` (not a string or a number)."""
    if not isinstance(value, bool):
        raise ConfigError(key, f"must be true or false, got {value!r}")
    return value


def check_choice(key: str, value: Any, choices: Iterable[str]) -> str:
    """One of ``choices``."""
    choices = list(choices)
    if value not in choices:
        raise ConfigError(key, f"must be one of {', '.join(choices)}, got {value!r}")
    return value


def reject_unknown(prefix: str, accepted: set[str], given: dict) -> None:
    """Raise :class:`ConfigError` for the first key of ``given`` not in ``accepted``."""
    unknown = sorted(set(given) - accepted)
    if unknown:
        match = difflib.get_close_matches(unknown[0], accepted, n=1, cutoff=0.6)
        hint = f"did you mean {prefix}.{match[0]}? " if match else ""
        raise ConfigError(
            f"{prefix}.{unknown[0]}",
            f"unknown parameter; {hint}allowed: {', '.join(sorted(accepted))}",
        )

"""Settings read from environment variables: numbers, whole numbers, switches and paths.

One parser for the staff app (``admissions.web``), its chat path and the retraining loop
(``admissions.training``), so a malformed value is refused the same clear way everywhere:
the message names the variable, what it must be, and what it got. An unset or blank
variable means the default. Standard library only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar

TRUE_WORDS = ("1", "true", "yes", "on")
Number = TypeVar("Number", int, float)


def _raw(env: Mapping[str, str], name: str) -> str:
    return env.get(name, "").strip()


def _check_range(name: str, value: float, low: float | None, high: float | None) -> None:
    if math.isnan(value):
        raise ValueError(f"{name} must be a number, got {value}")
    if low is not None and high is not None:
        if not low <= value <= high:
            raise ValueError(f"{name} must be between {low:g} and {high:g}, got {value:g}")
    elif low is not None and value < low:
        raise ValueError(f"{name} must be at least {low:g}, got {value:g}")
    elif high is not None and value > high:
        raise ValueError(f"{name} must be at most {high:g}, got {value:g}")


def _parsed(
    env: Mapping[str, str], name: str, convert: Callable[[str], Number], what: str
) -> Number | None:
    raw = _raw(env, name)
    if not raw:
        return None
    try:
        return convert(raw)
    except ValueError:
        raise ValueError(f"{name} must be {what}, got {raw!r}") from None


def number(
    env: Mapping[str, str],
    name: str,
    default: float,
    low: float | None = None,
    high: float | None = None,
    *,
    unit: str = "",
) -> float:
    """``name`` as a number within ``low``..``high`` (``unit``, e.g. "seconds", in the error)."""
    value = _parsed(env, name, float, f"a number of {unit}" if unit else "a number")
    if value is None:
        return default
    _check_range(name, value, low, high)
    return value


def seconds(env: Mapping[str, str], name: str, default: float, low: float = 0.0) -> float:
    """``name`` as a number of seconds, at least ``low``."""
    return number(env, name, default, low, unit="seconds")


def whole(
    env: Mapping[str, str], name: str, default: int, low: int | None = 0, high: int | None = None
) -> int:
    """``name`` as a whole number within ``low``..``high``."""
    value = _parsed(env, name, int, "a whole number")
    if value is None:
        return default
    _check_range(name, value, low, high)
    return value


def flag(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    """``name`` as a switch: 1, true, yes or on (any case) turn it on; blank is ``default``."""
    raw = _raw(env, name).lower()
    if not raw:
        return default
    return raw in TRUE_WORDS


def path(env: Mapping[str, str], name: str, default: Path, root: Path) -> Path:
    """``name`` as a path; a relative one is taken from ``root``."""
    raw = _raw(env, name)
    if not raw:
        return default
    value = Path(raw)
    return value if value.is_absolute() else root / value

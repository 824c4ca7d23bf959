"""Exploration and annealing schedules: a value as a function of the step."""

from __future__ import annotations

import math


def linear(start: float, end: float, duration: int, step: int) -> float:
    """Move from ``start`` to ``end`` over ``duration`` steps, then stay at ``end``."""
    if duration <= 0:
        return end
    fraction = min(max(step, 0) / duration, 1.0)
    return start + fraction * (end - start)


def exponential(start: float, end: float, duration: int, step: int) -> float:
    """Decay geometrically from ``start`` towards ``end``: 1% of the gap is left at ``duration``.

    The teaching recipe multiplies epsilon by a constant (0.995 per episode);
    expressed per step that constant is ``0.01 ** (1 / duration)``.
    """
    if duration <= 0:
        return end
    decay = math.exp(math.log(0.01) * max(step, 0) / duration)
    return end + (start - end) * decay


def schedule(kind: str, start: float, end: float, duration: int, step: int) -> float:
    """``kind`` is ``linear`` or ``exponential``."""
    if kind == "linear":
        return linear(start, end, duration, step)
    if kind == "exponential":
        return exponential(start, end, duration, step)
    raise ValueError(f"unknown schedule '{kind}' (linear or exponential)")

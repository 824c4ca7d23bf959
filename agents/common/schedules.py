"""Exploration and annealing schedules: a value as a function of the step."""

from __future__ import annotations

import math
from typing import Any


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


def decay_learning_rates(
    optimisers: list[tuple[Any, float]], final_fraction: float, done: int, total: int
) -> None:
    """Set each ``(optimiser, base_lr)`` to ``base_lr`` times a factor falling linearly
    from 1 to ``final_fraction`` over ``total`` updates (``done`` so far)."""
    factor = linear(1.0, final_fraction, total, done)
    for optimiser, base in optimisers:
        for group in optimiser.param_groups:
            group["lr"] = base * factor


def schedule(kind: str, start: float, end: float, duration: int, step: int) -> float:
    """``kind`` is ``linear`` or ``exponential``."""
    if kind == "linear":
        return linear(start, end, duration, step)
    if kind == "exponential":
        return exponential(start, end, duration, step)
    raise ValueError(f"unknown schedule '{kind}' (linear or exponential)")

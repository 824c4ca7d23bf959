"""Epsilon and beta schedules."""

from __future__ import annotations

import pytest

from agents.common.schedules import exponential, linear, schedule


def test_linear_goes_from_start_to_end_then_stays() -> None:
    assert linear(1.0, 0.1, 100, 0) == 1.0
    assert linear(1.0, 0.1, 100, 50) == pytest.approx(0.55)
    assert linear(1.0, 0.1, 100, 100) == pytest.approx(0.1)
    assert linear(1.0, 0.1, 100, 10**6) == pytest.approx(0.1)
    assert linear(0.4, 1.0, 0, 5) == 1.0  # no duration: already at the end


def test_exponential_leaves_one_percent_of_the_gap_at_the_duration() -> None:
    assert exponential(1.0, 0.0, 100, 0) == 1.0
    assert exponential(1.0, 0.0, 100, 100) == pytest.approx(0.01)
    assert exponential(1.0, 0.0, 100, 50) == pytest.approx(0.1)
    values = [exponential(1.0, 0.05, 100, s) for s in range(0, 1000, 10)]
    assert values == sorted(values, reverse=True) and min(values) >= 0.05


def test_unknown_schedule_is_refused() -> None:
    assert schedule("linear", 1.0, 0.0, 10, 5) == 0.5
    with pytest.raises(ValueError, match="unknown schedule 'cosine'"):
        schedule("cosine", 1.0, 0.0, 10, 5)

"""Training output as people write numbers: the bar, the summary line; the CSV keeps values."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from agents.common.logger import TrainLogger
from agents.common.numbers import format_metrics, format_number


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (51_700, "51,700"),
        (0, "0"),
        (-1_234_567, "-1,234,567"),
        (51_700.0, "51,700"),  # a float rate of a thousand or more: no decimals
        (11_523.4, "11,523"),
        (-23.4099, "-23.41"),
        (0.05, "0.05"),
        (0.5, "0.50"),
        (1.0, "1.00"),
        (0.0, "0.00"),
        (0.0012345, "0.0012"),
        (-0.000051, "-0.000051"),
        (float("nan"), "nan"),
        (np.int64(51_700), "51,700"),
        (np.float32(0.25), "0.25"),
        (True, "True"),
        ("dqn", "dqn"),
    ],
)
def test_numbers_print_as_people_write_them(value: object, shown: str) -> None:
    assert format_number(value) == shown


def test_metrics_line() -> None:
    items = {"episodes": 51_700, "return": -23.41, "epsilon": 0.05}.items()
    assert format_metrics(items) == "episodes 51,700, return -23.41, epsilon 0.05"


def _screen(console: Console) -> str:
    file = console.file
    assert isinstance(file, io.StringIO)
    return file.getvalue()


def test_bar_knows_its_total_from_the_start_and_shows_the_row_in_plain_numbers(
    tmp_path: Path,
) -> None:
    console = Console(file=io.StringIO(), force_terminal=True, width=100, color_system=None)
    log = TrainLogger(
        tmp_path, 300_000, ["episodes", "epsilon"], progress=True, console=console,
        description="q-learning tictactoe_v3",
    )  # fmt: skip
    log.advance(0)
    first = _screen(console)
    assert "0/300,000" in first and "None" not in first
    log.log(120_000, episodes=51_700, epsilon=0.0512345)
    log.close()
    screen = _screen(console)
    assert "120,000/300,000" in screen
    assert "episodes 51,700  epsilon 0.05" in screen
    assert "e+" not in screen
    with (tmp_path / "log.csv").open() as f:
        (row,) = list(csv.DictReader(f))
    assert (row["step"], row["episodes"], row["epsilon"]) == ("120000", "51700", "0.05123")

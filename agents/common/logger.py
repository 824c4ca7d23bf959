"""Training logs: a CSV row per interval, a rich progress bar, optional TensorBoard.

The CSV is the record (plot it with anything); the bar is for the person
watching. On ``--resume`` rows are appended to the same file.
"""

from __future__ import annotations

import csv
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

from agents.common.numbers import format_metrics

_NOT_SHOWN = ("step", "seconds")  # the bar shows the step; the clock is the bar's too


class TrainLogger:
    """``log(step, **metrics)`` writes one CSV row and refreshes the bar.

    Args:
        training_dir: ``OUT/training``; ``log.csv`` goes there.
        total_steps: the run's step budget, for the bar.
        columns: the metric names, fixed up front so every row has the same columns.
        progress: draw a rich progress bar on stderr.
        tensorboard: also write scalars to ``training_dir/tensorboard``.
        start_step: where a resumed run starts.
        console: the rich console the bar draws on (stderr by default).
    """

    def __init__(
        self,
        training_dir: Path,
        total_steps: int,
        columns: Sequence[str],
        *,
        progress: bool = False,
        tensorboard: bool = False,
        start_step: int = 0,
        description: str = "training",
        console: Any = None,
    ) -> None:
        training_dir.mkdir(parents=True, exist_ok=True)
        self.path = training_dir / "log.csv"
        self.columns = ["step", "seconds", "steps_per_s", *columns]
        append = start_step > 0 and self.path.exists()
        self._file: TextIO = self.path.open("a" if append else "w", newline="")
        self._csv = csv.DictWriter(self._file, fieldnames=self.columns)
        if not append:
            self._csv.writeheader()
        self._start = time.perf_counter()
        self._last_time = self._start
        self._last_step = start_step
        self._rate = 0.0
        self.latest: dict[str, Any] = {}
        self._tb: Any = None
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self._tb = SummaryWriter(str(training_dir / "tensorboard"))
            except ImportError:
                sys.stderr.write("warning: tensorboard is not installed; logging to CSV only\n")
        self._progress: Any = None
        if progress:
            self._progress = _bar(console)
            # The total is known from the start: the bar never shows 0/None.
            self._task = self._progress.add_task(
                description, total=total_steps, completed=start_step
            )
            self._progress.start()

    def log(self, step: int, **metrics: float | int | str | None) -> dict[str, Any]:
        """Record ``metrics`` at ``step``; returns the row written."""
        unknown = set(metrics) - set(self.columns)
        if unknown:
            raise KeyError(f"TrainLogger: undeclared columns {sorted(unknown)}")
        now = time.perf_counter()
        if step > self._last_step:
            self._rate = (step - self._last_step) / max(now - self._last_time, 1e-9)
            self._last_time, self._last_step = now, step
        rate = self._rate
        row: dict[str, Any] = {
            "step": step,
            "seconds": round(now - self._start, 3),
            "steps_per_s": round(rate, 1),
        }
        row.update({k: _round(v) for k, v in metrics.items()})
        self._csv.writerow(row)
        self._file.flush()
        self.latest = row
        if self._tb is not None:
            for key, value in row.items():
                if isinstance(value, (int, float)) and key != "step":
                    self._tb.add_scalar(key, value, step)
        self.advance(step, row)
        return row

    def advance(self, step: int, row: dict[str, Any] | None = None) -> None:
        """Move the bar to ``step`` (cheap; call it as often as you like)."""
        if self._progress is None:
            return
        shown = row if row is not None else self.latest
        if shown:
            items = ((k, v) for k, v in shown.items() if k not in _NOT_SHOWN and v != "")
            self._progress.metrics = format_metrics(items, sep="  ")
        self._progress.update(self._task, completed=step)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
        if self._tb is not None:
            self._tb.close()
        self._file.close()

    def __enter__(self) -> TrainLogger:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _round(value: Any) -> Any:
    return round(value, 5) if isinstance(value, float) else value


def _bar(console: Any) -> Any:
    """A rich bar with the steps as ``1,234/30,000``, and the latest row on a line below
    (so a long row never squeezes the bar off a narrow terminal)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
    from rich.text import Text

    class Bar(Progress):
        metrics = ""

        def get_renderables(self) -> Any:
            yield self.make_tasks_table(self.tasks)
            if self.metrics:
                yield Text(self.metrics, no_wrap=True, overflow="ellipsis")

    return Bar(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,.0f}/{task.total:,.0f}"),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )

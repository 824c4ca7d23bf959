"""agents.common.interrupt.Checkpoints: the step and time cadences, and Ctrl-C."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from agents.common.interrupt import Checkpoints
from arena.trainer import TrainingInterrupted


class Run:
    """A fake trainer: a step counter, its saves, and a clock the test moves."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.step = 0
        self.now = 0.0
        self.saved: list[int] = []

    def save(self) -> int:
        self.path.write_text(str(self.step))
        self.saved.append(self.step)
        return self.step

    def checkpoints(self, every_steps: int = 0, every_minutes: float = 0.0) -> Checkpoints:
        return Checkpoints(
            self.save, self.path, step=self.step, every_steps=every_steps,
            every_minutes=every_minutes, clock=lambda: self.now,
        )  # fmt: skip


def test_step_cadence_saves_on_the_multiples(tmp_path: Path) -> None:
    run = Run(tmp_path / "ckpt")
    with run.checkpoints(every_steps=100) as ckpt:
        for step in (40, 90, 130, 180, 210, 330):
            run.step = step
            ckpt.reached(step)
    assert run.saved == [130, 210, 330]


def test_time_cadence_saves_every_m_minutes_between_step_saves(tmp_path: Path) -> None:
    run = Run(tmp_path / "ckpt")
    with run.checkpoints(every_steps=1_000, every_minutes=10) as ckpt:
        for step, seconds in ((10, 300), (20, 599), (30, 600), (40, 900), (50, 1199), (60, 1200)):
            run.step, run.now = step, seconds
            ckpt.reached(step)
    assert run.saved == [30, 60]


def test_ctrl_c_in_an_update_waits_for_its_end_then_saves(tmp_path: Path) -> None:
    run = Run(tmp_path / "ckpt")
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(TrainingInterrupted) as stop, run.checkpoints() as ckpt:
        for step in range(1, 10):
            with ckpt.update():
                if step == 3:
                    os.kill(os.getpid(), signal.SIGINT)
                    assert ckpt.requested
                run.step = step  # still done: the update finishes
            ckpt.reached(step)
    assert (stop.value.step, stop.value.saved, stop.value.checkpoint) == (3, True, run.path)
    assert run.saved == [3]
    assert signal.getsignal(signal.SIGINT) is before  # put back


def test_ctrl_c_outside_an_update_stops_at_once_and_saves_the_state(tmp_path: Path) -> None:
    run = Run(tmp_path / "ckpt")
    with pytest.raises(TrainingInterrupted) as stop, run.checkpoints() as ckpt:
        with ckpt.update():
            run.step = 7
        os.kill(os.getpid(), signal.SIGINT)  # e.g. during an evaluation
        pytest.fail("the signal did not stop the run")
    assert (stop.value.step, stop.value.saved, run.saved) == (7, True, [7])


def test_second_ctrl_c_during_the_save_waits_for_it(tmp_path: Path) -> None:
    run = Run(tmp_path / "ckpt")

    def save_pressed_twice() -> int:
        os.kill(os.getpid(), signal.SIGINT)
        return run.save()

    checkpoints = Checkpoints(save_pressed_twice, run.path, step=0, every_steps=0, every_minutes=0)
    with pytest.raises(TrainingInterrupted) as stop, checkpoints as ckpt:
        with ckpt.update():
            run.step = 5
            os.kill(os.getpid(), signal.SIGINT)
    assert (stop.value.step, run.saved, run.path.read_text()) == (5, [5], "5")


def test_no_second_save_when_nothing_changed_since_the_last(tmp_path: Path) -> None:
    run = Run(tmp_path / "ckpt")
    with pytest.raises(TrainingInterrupted), run.checkpoints(every_steps=10) as ckpt:
        with ckpt.update():
            run.step = 10
        ckpt.reached(10)  # saves by the step cadence
        raise KeyboardInterrupt
    assert run.saved == [10]


def test_interrupt_torn_inside_an_update_keeps_the_last_checkpoint(tmp_path: Path) -> None:
    run = Run(tmp_path / "ckpt")
    with pytest.raises(TrainingInterrupted) as stop, run.checkpoints(every_steps=10) as ckpt:
        for step in range(5, 100, 5):
            with ckpt.update():
                run.step = step
                if step == 25:
                    raise KeyboardInterrupt  # not through the handler: state half-updated
            ckpt.reached(step)
    assert (stop.value.step, stop.value.saved, stop.value.checkpoint) == (20, False, run.path)
    assert run.saved == [10, 20]


def test_interrupt_torn_before_any_checkpoint(tmp_path: Path) -> None:
    run = Run(tmp_path / "ckpt")
    with pytest.raises(TrainingInterrupted) as stop, run.checkpoints() as ckpt:
        ckpt.reached(4)
        with ckpt.update():
            raise KeyboardInterrupt
    assert (stop.value.step, stop.value.saved, stop.value.checkpoint) == (4, False, None)
    assert run.saved == [] and not run.path.exists()

"""Ctrl-C in ``arena train`` never strands a run: a checkpoint, one line naming the
command that resumes, exit 130; ``--resume`` finishes the package; ``--overwrite``
starts a folder of ours again and refuses any other."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from arena.cli import app

runner = CliRunner()

TABULAR = """\
eval_every = 0
log_every = 500
snapshot_every = 1000
"""


def arena(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    err = "".join(
        line for line in result.stderr.splitlines(keepends=True) if not line.startswith("sandbox:")
    )
    return result.exit_code, result.stdout, err


def ctrl_c_after(
    monkeypatch: pytest.MonkeyPatch, cls: type, method: str, when: Callable[[Any], bool]
) -> None:
    """Press Ctrl-C (a real SIGINT to this process) once, after ``cls.method`` returns
    and ``when(self)`` holds."""
    original = getattr(cls, method)
    pressed: list[bool] = []

    def hooked(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = original(self, *args, **kwargs)
        if not pressed and when(self):
            pressed.append(True)
            os.kill(os.getpid(), signal.SIGINT)
        return result

    monkeypatch.setattr(cls, method, hooked)


def tabular_args(tmp_path: Path, out: str, steps: int = 6000) -> list[str]:
    config = tmp_path / "tabular.toml"
    config.write_text(TABULAR)
    return ["q-learning", "--env", "tictactoe_v3", "--steps", str(steps),
            "--out", str(tmp_path / out), "--config", str(config), "--no-progress"]  # fmt: skip


def resume_args(err: str) -> list[str]:
    """The arguments after ``arena`` of the command the interruption line names."""
    command = err.split("resume with: ", 1)[1].strip()
    words = shlex.split(command)
    assert words[0] == "arena"
    return words[1:]


def test_ctrl_c_saves_a_checkpoint_and_resume_gives_the_uninterrupted_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agents.tabular import TabularTrainer

    whole = tabular_args(tmp_path, "whole")
    assert arena("train", *whole)[0] == 0

    args = tabular_args(tmp_path, "cut")
    out = tmp_path / "cut"
    ctrl_c_after(monkeypatch, TabularTrainer, "play_game", lambda t: t.step >= 2500)
    code, stdout, err = arena("train", *args)
    assert code == 130 and stdout == ""
    with np.load(out / "training" / "checkpoint.npz") as saved:
        step = int(saved["counters"][0])
    assert 2500 <= step < 2510  # the game the signal came in was finished first
    command = shlex.join(["arena", "train", *args, "--resume"])
    assert err == f"interrupted at step {step:,}: checkpoint saved; resume with: {command}\n"
    assert not (out / "agent.toml").exists()  # no package yet

    # Running it again without --resume names both ways on.
    code, _, err_again = arena("train", *args)
    assert (code, err_again) == (
        1,
        f"error: --out {out} holds a training run: pass --resume to continue it, "
        "or --overwrite to start again\n",
    )

    monkeypatch.undo()
    code, stdout, err = arena(*resume_args(err), "--json")
    assert code == 0, err
    assert json.loads(stdout)["steps"] == 6000
    # Same table, byte for byte, as the run that was never stopped.
    assert (out / "table.npz").read_bytes() == (tmp_path / "whole" / "table.npz").read_bytes()
    code, check, err = arena("agent", "check", str(out))
    assert code == 0 and check.startswith("ok: tictactoe-q-learning"), err


def test_second_ctrl_c_during_the_save_leaves_a_whole_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agents.tabular import TabularTrainer

    ctrl_c_after(monkeypatch, TabularTrainer, "play_game", lambda t: t.step >= 1000)
    save = TabularTrainer.save

    def impatient_save(self: TabularTrainer, path: Path) -> None:
        os.kill(os.getpid(), signal.SIGINT)  # pressed again while writing
        save(self, path)

    monkeypatch.setattr(TabularTrainer, "save", impatient_save)
    args = tabular_args(tmp_path, "o")
    code, _, err = arena("train", *args)
    assert code == 130
    assert err.startswith("interrupted at step 1,0") and err.count("\n") == 1
    training = tmp_path / "o" / "training"
    assert sorted(p.name for p in training.iterdir()) == [
        "checkpoint.npz",
        "config.json",
        "log.csv",
    ]
    with np.load(training / "checkpoint.npz") as saved:
        assert f"{int(saved['counters'][0]):,}" in err


def test_interrupt_before_any_checkpoint_points_to_overwrite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agents.tabular import TabularTrainer

    play_game = TabularTrainer.play_game

    def torn(self: TabularTrainer, total: int) -> None:
        play_game(self, total)
        if self.episode == 40:
            raise KeyboardInterrupt  # not a signal: the table is mid-update, not saved

    monkeypatch.setattr(TabularTrainer, "play_game", torn)
    args = tabular_args(tmp_path, "o")
    out = tmp_path / "o"
    code, _, err = arena("train", *args)
    assert code == 130
    again = shlex.join(["arena", "train", *args, "--overwrite"])
    assert err.startswith("interrupted at step ")
    assert err.endswith(
        f"in the middle of an update, before any checkpoint; start again with: {again}\n"
    )
    assert not (out / "training" / "checkpoint.npz").exists()
    monkeypatch.undo()

    no_checkpoint = (
        f"error: {out}: folder exists but holds no checkpoint (interrupted before the first "
        "save?); pass --overwrite to start again, or choose a new --out\n"
    )
    assert arena("train", *args)[::2] == (1, no_checkpoint)
    assert arena("train", *args, "--resume")[::2] == (1, no_checkpoint)
    code, stdout, err = arena("train", *shlex.split(again)[2:])
    assert code == 0, err
    assert "package:" in stdout and (out / "agent.toml").is_file()


def test_overwrite_removes_only_what_the_arena_wrote(tmp_path: Path) -> None:
    args = tabular_args(tmp_path, "o", steps=1000)
    out = tmp_path / "o"
    assert arena("train", *args)[0] == 0
    (out / "notes.txt").write_text("mine")
    (out / "training" / "log.csv").write_text("stale\n")
    code, _, err = arena("train", *args, "--overwrite")
    assert code == 0, err
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "training" / "log.csv").read_text().startswith("step,")
    assert json.loads((out / "training" / "files.json").read_text()) == {
        "files": ["agent.toml", "table.npz", "tabular_player.py"]
    }
    assert arena("train", *args, "--overwrite", "--resume")[::2] == (
        1,
        "error: --resume continues a run and --overwrite starts it again: pass one\n",
    )


def test_overwrite_refuses_a_folder_the_arena_did_not_write(tmp_path: Path) -> None:
    out = tmp_path / "o"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    args = tabular_args(tmp_path, "o")
    assert arena("train", *args, "--overwrite")[::2] == (
        1,
        f"error: --overwrite: {out} was not written by arena train (no training/config.json); "
        "it is left as it is: choose another --out\n",
    )
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_dqn_interrupted_mid_run_resumes_to_a_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agents.dqn import SelfPlay

    config = tmp_path / "tiny.toml"
    config.write_text(
        "hidden = [32, 32]\nn_games = 8\nlearning_starts = 200\neval_every = 0\n"
        "final_eval_games = 10\nlog_every = 500\n"
    )
    out = tmp_path / "o"
    args = ["dqn", "--env", "tictactoe_v3", "--steps", "1500", "--out", str(out),
            "--seed", "3", "--config", str(config), "--no-progress"]  # fmt: skip
    ticks: list[int] = []

    def count(play: SelfPlay) -> bool:
        ticks.append(1)
        return len(ticks) == 60

    ctrl_c_after(monkeypatch, SelfPlay, "tick", count)
    code, _, err = arena("train", *args)
    assert code == 130
    import torch

    state = torch.load(out / "training" / "checkpoint.pt", weights_only=True)
    assert 0 < state["step"] < 1500
    assert err == (
        f"interrupted at step {state['step']:,}: checkpoint saved; resume with: "
        f"{shlex.join(['arena', 'train', *args, '--resume'])}\n"
    )
    monkeypatch.undo()
    code, stdout, err = arena(*resume_args(err), "--json")
    assert code == 0, err
    assert 1500 <= json.loads(stdout)["steps"] < 1500 + 8
    assert (out / "agent.toml").is_file() and (out / "weights.pt").is_file()


def test_mpe_interrupted_mid_run_resumes_to_a_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agents.common.vec_mpe import VecMPE

    config = tmp_path / "tiny.toml"
    config.write_text(
        "n_envs = 4\nlearning_starts = 200\nbatch_size = 32\nbuffer_size = 2000\n"
        "eval_episodes = 4\nlog_interval = 200\neval_interval = 400\n"
    )
    out = tmp_path / "o"
    args = ["maddpg", "--env", "simple_spread_v3", "--steps", "800", "--out", str(out),
            "--config", str(config), "--no-progress"]  # fmt: skip
    rounds: list[int] = []

    def count(vec: VecMPE) -> bool:
        rounds.append(1)
        return len(rounds) == 100  # the training vector's rounds and the evaluation's

    ctrl_c_after(monkeypatch, VecMPE, "step", count)
    code, _, err = arena("train", *args)
    assert code == 130
    import torch

    state = torch.load(out / "training" / "checkpoint.pt", weights_only=True)
    assert 0 < state["step"] < 800 and err.startswith(f"interrupted at step {state['step']:,}: ")
    monkeypatch.undo()
    code, stdout, err = arena(*resume_args(err), "--json")
    assert code == 0, err
    assert json.loads(stdout)["steps"] == 800
    assert (out / "agent.toml").is_file() and (out / "policy.pt").is_file()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_real_signal_to_arena_train(tmp_path: Path, sig: signal.Signals) -> None:
    """The installed ``arena`` command, stopped by a signal as a terminal or a service
    manager would: exit 130 and the one line, whatever moment the signal lands."""
    exe = Path(sys.executable).with_name("arena")
    if not exe.exists():
        pytest.skip(f"no arena script beside {sys.executable}")
    config = tmp_path / "c.toml"
    config.write_text("eval_every = 0\nlog_every = 500\n")
    out = tmp_path / "o"
    args = ["q-learning", "--env", "tictactoe_v3", "--steps", "100000000", "--out", str(out),
            "--config", str(config)]  # fmt: skip
    proc = subprocess.Popen(
        [str(exe), "train", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    log = out / "training" / "log.csv"
    deadline = time.monotonic() + 120
    while not (log.is_file() and log.read_text().count("\n") >= 3):
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr
        time.sleep(0.05)
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    with np.load(out / "training" / "checkpoint.npz") as saved:
        step = int(saved["counters"][0])
    command = shlex.join(["arena", "train", *args, "--resume"])
    assert stderr == f"interrupted at step {step:,}: checkpoint saved; resume with: {command}\n"
    assert stdout == ""


def test_time_cadence_and_an_interrupt_torn_mid_update_keep_the_last_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ``checkpoint_minutes`` tiny every game end is a save by the clock; a stop
    that tears an update keeps the checkpoint of the game before."""
    from agents.tabular import TabularTrainer

    config = tmp_path / "often.toml"
    config.write_text(TABULAR + "checkpoint_minutes = 0.000000001\n")
    play_game = TabularTrainer.play_game

    def torn(self: TabularTrainer, total: int) -> None:
        if self.episode == 40:
            self.step += 3  # half a game played, then the stop
            raise KeyboardInterrupt
        play_game(self, total)

    monkeypatch.setattr(TabularTrainer, "play_game", torn)
    out = tmp_path / "o"
    args = ["q-learning", "--env", "tictactoe_v3", "--steps", "6000", "--out", str(out),
            "--config", str(config), "--no-progress"]  # fmt: skip
    code, _, err = arena("train", *args)
    assert code == 130
    with np.load(out / "training" / "checkpoint.npz") as saved:
        step, episodes = (int(x) for x in saved["counters"])
    assert episodes == 40  # saved by the clock after the last whole game
    assert err == (
        f"interrupted in the middle of an update: the checkpoint of step {step:,} is kept; "
        f"resume with: {shlex.join(['arena', 'train', *args, '--resume'])}\n"
    )


@pytest.mark.parametrize(
    ("algo", "env"),
    [("q-learning", "tictactoe_v3"), ("dqn", "tictactoe_v3"), ("sac", "simple_spread_v3")],
)
def test_checkpoint_minutes_is_checked_like_every_key(tmp_path: Path, algo: str, env: str) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("checkpoint_minutes = -1\n")
    out = tmp_path / "o"
    code, _, err = arena(
        "train", algo, "--env", env, "--steps", "10", "--out", str(out), "--config", str(config)
    )
    assert (code, err) == (
        1,
        f"error: {config}: key 'checkpoint_minutes': expected a number >= 0, got -1\n",
    )
    assert not out.exists()

"""What `make demo` installs is enough for everything but the neural trainers, and those
say in one line how to get torch (docs/install.md). torch is hidden from a child
process (``sys.modules['torch'] = None``), as on a core-only install."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

WITHOUT_TORCH = (
    "import sys; sys.modules['torch'] = None; "
    "sys.argv = ['arena', *sys.argv[1:]]; "
    "from arena.cli import main; main()"
)


def arena_without_torch(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ARENA_HOME": str(home)}
    env.pop("ARENA_DB", None)
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_TORCH, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_tabular_training_needs_no_torch(tmp_path: Path) -> None:
    out = tmp_path / "q"
    done = arena_without_torch(
        tmp_path, "train", "q-learning", "--env", "tictactoe_v3", "--steps", "2000",
        "--out", str(out), "--no-progress",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (out / "agent.toml").is_file()


def test_a_neural_trainer_without_torch_is_one_line(tmp_path: Path) -> None:
    done = arena_without_torch(
        tmp_path, "train", "dqn", "--env", "tictactoe_v3", "--steps", "2000",
        "--out", str(tmp_path / "d"),
    )  # fmt: skip
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        "error: training needs PyTorch (the CPU build), which make demo does not install: "
        "run make install, or see docs/install.md\n"
    )
    assert not (tmp_path / "d").exists()

"""``arena train`` for the DQN family end to end: a package that checks and plays,
same seed → same bytes, ``--resume``, and one-line config errors."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from arena.cli import app

runner = CliRunner()

TINY = """\
# a run small enough for the fast suite
hidden = [32, 32]
n_games = 8
learning_starts = 200
eval_every = 0
final_eval_games = 10
log_every = 500
"""


def arena(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    err = "".join(
        line for line in result.stderr.splitlines(keepends=True) if not line.startswith("sandbox:")
    )
    return result.exit_code, result.stdout, err


def _config(tmp_path: Path, text: str = TINY, name: str = "tiny.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _train(tmp_path: Path, out: str, algo: str = "dqn", *extra: str) -> Path:
    target = tmp_path / out
    code, stdout, err = arena(
        "train", algo, "--env", "tictactoe_v3", "--steps", "1500", "--out", str(target),
        "--seed", "3", "--config", str(_config(tmp_path)), "--no-progress", *extra,
    )  # fmt: skip
    assert code == 0, err
    assert "package:" in stdout
    return target


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("algo", ["dqn", "rainbow"])
def test_trained_package_checks_plays_and_loads_weights_only(tmp_path: Path, algo: str) -> None:
    out = _train(tmp_path, "pkg", algo)
    names = {p.name for p in out.iterdir()}
    assert {"agent.toml", "dqn_player.py", "weights.pt", "network.json", "training"} <= names
    assert {p.name for p in (out / "training").iterdir()} >= {
        "config.json", "log.csv", "checkpoint.pt"
    }  # fmt: skip
    manifest = (out / "agent.toml").read_text()
    assert 'kind = "dqn"' in manifest and 'learning_type = "Q-gradient"' in manifest
    assert 'envs = ["tictactoe_v3"]' in manifest
    state = torch.load(out / "weights.pt", weights_only=True)
    assert all(isinstance(v, torch.Tensor) for v in state.values())
    # The player module imports neither the arena nor the trainers.
    player = (out / "dqn_player.py").read_text()
    assert "import arena" not in player and "from agents" not in player
    code, stdout, err = arena("agent", "check", str(out))
    assert code == 0, err
    assert stdout.startswith(f"ok: tictactoe-{algo} 1.0.0")
    code, stdout, err = arena(
        "match", "tictactoe_v3", str(out), "one-ply", "--games", "4", "--json", "--no-record"
    )
    assert code == 0, err
    summary = json.loads(stdout)["summary"]
    mine = summary[f"tictactoe-{algo}"]
    assert mine["wins"] + mine["draws"] + mine["losses"] == 4
    assert not mine["forfeits"]


def test_same_seed_same_package_bytes(tmp_path: Path) -> None:
    a, b = _train(tmp_path, "a"), _train(tmp_path, "b")
    for name in ("weights.pt", "network.json", "agent.toml"):
        assert _sha(a / name) == _sha(b / name), name
    c = tmp_path / "c"
    code, _, err = arena(
        "train", "dqn", "--env", "tictactoe_v3", "--steps", "1500", "--out", str(c),
        "--seed", "4", "--config", str(_config(tmp_path)), "--no-progress",
    )  # fmt: skip
    assert code == 0, err
    assert _sha(a / "weights.pt") != _sha(c / "weights.pt")


def test_resume_continues_from_the_checkpoint(tmp_path: Path) -> None:
    out = _train(tmp_path, "pkg")
    rows_before = (out / "training" / "log.csv").read_text().splitlines()
    code, stdout, err = arena(
        "train", "dqn", "--env", "tictactoe_v3", "--steps", "2500", "--out", str(out),
        "--seed", "3", "--resume", "--no-progress", "--json",
    )  # fmt: skip
    assert code == 0, err
    summary = json.loads(stdout)
    assert 2500 <= summary["steps"] < 2500 + 8  # whole lockstep ticks of 8 games
    rows = (out / "training" / "log.csv").read_text().splitlines()
    assert rows[: len(rows_before)] == rows_before  # appended, not rewritten
    assert int(rows[-1].split(",")[0]) == summary["steps"]
    state = torch.load(out / "training" / "checkpoint.pt", weights_only=True)
    assert state["step"] == summary["steps"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("lr_rate = 0.1\n", "unknown key 'lr_rate' (known keys: alpha, atoms, batch_size"),
        ('batch_size = "big"\n', "key 'batch_size': expected int, got 'big'"),
        ("n_step = 0\n", "key 'n_step': must be at least 1"),
        ('loss = "l1"\n', "key 'loss': expected one of 'mse', 'huber', got 'l1'"),
    ],
)
def test_config_errors_are_one_line_naming_file_and_key(
    tmp_path: Path, text: str, message: str
) -> None:
    path = _config(tmp_path, text, "bad.toml")
    code, _, err = arena(
        "train", "dqn", "--env", "tictactoe_v3", "--steps", "100", "--out",
        str(tmp_path / "x"), "--config", str(path), "--no-progress",
    )  # fmt: skip
    assert code == 1
    assert err.startswith(f"error: {path}: {message}")
    assert err.count("\n") == 1


def test_unsupported_env_is_refused_with_the_reason(tmp_path: Path) -> None:
    code, _, err = arena(
        "train", "rainbow", "--env", "leduc_holdem_v4", "--steps", "100", "--out",
        str(tmp_path / "x"), "--no-progress",
    )  # fmt: skip
    assert code == 1
    assert err == (
        "error: rainbow cannot train on leduc_holdem_v4: the DQN trainers self-play on fast "
        "boards for tictactoe_v3, connect_four_v3 only (the conv Q-network exists for Atari, "
        "but its training loop is not built yet)\n"
    )

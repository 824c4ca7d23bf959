"""Tabular self-play end to end: it provably stops losing, and its package plays.

The learning test judges the trained package exhaustively: the value its greedy
policy guarantees against every possible opponent, from each seat, must be the
game's value (a draw). Sampled games could miss the one line that loses.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import gymnasium
import numpy as np
import pytest
from typer.testing import CliRunner

from agents.minimax import guaranteed_value
from agents.players.tabular_player import make_agent
from arena.cli import app
from arena.training import train

runner = CliRunner()
FAST = "eval_every = 0\n"
# (steps, extra config): q-learning with the defaults at the budget; SARSA
# with exploring starts, which got there in half the steps (bench/RESULTS.md).
RUNS = {
    "q-learning": (400_000, ""),
    "sarsa": (200_000, "random_opening = 4\n"),
}


def _policy(package: Path):  # type: ignore[no-untyped-def]
    ctx = SimpleNamespace(package_dir=package, seed=0, action_space=gymnasium.spaces.Discrete(9))
    return make_agent(ctx)


@pytest.mark.learning
@pytest.mark.slow  # 400k (q-learning) and 200k (sarsa) steps: about 40 s and 20 s
@pytest.mark.parametrize("algo", ["q-learning", "sarsa"])
def test_self_play_stops_losing_at_tictactoe(algo: str, tmp_path: Path) -> None:
    steps, extra = RUNS[algo]
    config = tmp_path / "fast.toml"
    config.write_text(FAST + extra)
    out = tmp_path / algo
    summary = train(
        algo, "tictactoe_v3", steps=steps, out=out, seed=0, device="cpu",
        config_path=config, progress=False,
    )  # fmt: skip
    assert summary.steps == steps
    policy = _policy(out)
    assert guaranteed_value(policy, first=True) == 0
    assert guaranteed_value(policy, first=False) == 0
    # ... and the final evaluation through the match runner agrees.
    assert summary.metrics["losses_vs_minimax"] == 0
    assert summary.metrics["losses_vs_random"] == 0


def test_a_short_run_is_still_exploitable(tmp_path: Path) -> None:
    """The check above can fail: 20k steps of self-play leave a losing line."""
    config = tmp_path / "fast.toml"
    config.write_text(FAST)
    train("q-learning", "tictactoe_v3", steps=20_000, out=tmp_path / "p", seed=0,
          device="cpu", config_path=config, progress=False)  # fmt: skip
    policy = _policy(tmp_path / "p")
    assert min(guaranteed_value(policy, first=True), guaranteed_value(policy, first=False)) == -1


@pytest.mark.learning  # its package must beat random (20k steps, about 4 s)
def test_trained_package_checks_plays_and_is_stored(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("eval_every = 5000\neval_games = 10\nlog_every = 5000\n")
    out = tmp_path / "pkg"
    result = runner.invoke(
        app,
        ["train", "expected-sarsa", "--env", "tictactoe_v3", "--steps", "20000", "--out",
         str(out), "--seed", "3", "--config", str(config), "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["steps"] == 20000 and summary["package_dir"] == str(out)
    manifest = (out / "agent.toml").read_text()
    assert 'kind = "tabular"' in manifest and 'learning_type = "Tabular"' in manifest
    assert 'envs = ["tictactoe_v3"]' in manifest
    with np.load(out / "table.npz", allow_pickle=False) as table:
        assert table["keys"].shape[0] == table["values"].shape[0] > 1000
    log = (out / "training" / "log.csv").read_text().splitlines()
    assert log[0].startswith("step,seconds,steps_per_s,episode,epsilon,alpha,states,win_vs_random")
    assert len(log) == 1 + 4 + 1  # a row every 5000 steps, and the final evaluation

    check = runner.invoke(app, ["agent", "check", str(out), "--json"])
    assert check.exit_code == 0, check.stdout + check.stderr
    assert json.loads(check.stdout)["envs_checked"] == ["tictactoe_v3"]

    match = runner.invoke(
        app, ["match", "tictactoe_v3", str(out), "random", "--games", "10", "--json"]
    )
    assert match.exit_code == 0, match.stderr
    report = json.loads(match.stdout)
    assert len(report["match_ids"]) == 10
    label = next(k for k in report["summary"] if k != "random")
    assert report["summary"][label]["forfeits"] == {}
    assert report["summary"][label]["wins"] > report["summary"]["random"]["wins"]


def test_same_seed_same_table_and_resume_continues(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("eval_every = 0\n")
    for name in ("a", "b"):
        train("q-learning", "tictactoe_v3", steps=15_000, out=tmp_path / name, seed=5,
              device="cpu", config_path=config, progress=False)  # fmt: skip
    assert (tmp_path / "a" / "table.npz").read_bytes() == (
        tmp_path / "b" / "table.npz"
    ).read_bytes()

    first = np.load(tmp_path / "a" / "table.npz")["keys"].shape[0]
    resumed = train("q-learning", "tictactoe_v3", steps=30_000, out=tmp_path / "a", seed=5,
                    device="cpu", config_path=config, progress=False, resume=True)  # fmt: skip
    assert resumed.steps == 30_000
    assert np.load(tmp_path / "a" / "table.npz")["keys"].shape[0] > first
    steps = [int(line.split(",")[0]) for line in
             (tmp_path / "a" / "training" / "log.csv").read_text().splitlines()[1:]]  # fmt: skip
    assert steps == sorted(steps) and steps[-1] == 30_000 and 15_000 in steps


@pytest.mark.learning
@pytest.mark.slow  # 60k steps of Leduc: about 24 s
def test_leduc_per_agent_learning_beats_random(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("eval_every = 0\n")
    summary = train("q-learning", "leduc_holdem_v4", steps=60_000, out=tmp_path / "l", seed=0,
                    device="cpu", config_path=config, progress=False)  # fmt: skip
    assert json.loads((tmp_path / "l" / "training" / "config.json").read_text())["backup"] == (
        "per-agent"
    )
    assert summary.metrics["score_vs_random"] > 0.6

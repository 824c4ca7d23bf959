"""PPO and A2C through ``arena.training.train``: the package checks and plays, resume equals
an uninterrupted run, bad configs are one line, and PPO learns tic-tac-toe (judged by the arena)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from agents.common.evaluate import evaluate
from arena.check import check_package
from arena.errors import ArenaError
from arena.sources import resolve_agent
from arena.training import train

# A run small enough for the fast suite: 8 games x 16 ticks = 128 env steps per rollout.
TINY = """\
n_games = 8
rollout_steps = 16
hidden = [32]
snapshot_every = 512
pool_size = 2
eval_every = 0
final_eval_games = 0
log_every = 512
opponents = {self = 0.4, past = 0.2, random = 0.1, one-ply = 0.1, heuristic = 0.2}
"""


def _config(tmp_path: Path, text: str = TINY, name: str = "tiny.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _train(tmp_path: Path, out: str, steps: int, algo: str = "ppo", **kw: object) -> Path:
    target = tmp_path / out
    train(algo, "tictactoe_v3", steps=steps, out=target, seed=5, device="cpu",
          config_path=kw.pop("config", _config(tmp_path)), progress=False, **kw)  # type: ignore[arg-type]  # fmt: skip
    return target


@pytest.mark.parametrize("algo", ["ppo", "a2c"])
def test_package_passes_the_agent_check_and_loads_weights_only(tmp_path: Path, algo: str) -> None:
    out = _train(tmp_path, "pkg", 1024, algo)
    assert {"agent.toml", "pg_player.py", "weights.pt", "network.json"} <= {
        p.name for p in out.iterdir()
    }
    manifest = (out / "agent.toml").read_text()
    assert (
        'kind = "policy-gradient"' in manifest and 'learning_type = "Policy gradient"' in manifest
    )
    state = torch.load(out / "weights.pt", weights_only=True)
    assert all(isinstance(v, torch.Tensor) for v in state.values())
    player = (out / "pg_player.py").read_text()
    assert "import arena" not in player and "from agents" not in player
    report = check_package(out)
    assert report.name == f"tictactoe-{algo}" and report.envs_checked == ["tictactoe_v3"]
    # Sampling instead of the argmax is one switch in network.json; it still plays legally.
    network = json.loads((out / "network.json").read_text())
    assert network["sample"] is False
    (out / "network.json").write_text(json.dumps({**network, "sample": True}))
    score = evaluate("tictactoe_v3", resolve_agent(str(out)), "random", games=6, seed=1)
    assert score.wins + score.draws + score.losses == 6


def test_resume_gives_the_weights_of_an_uninterrupted_run(tmp_path: Path) -> None:
    whole = _train(tmp_path, "whole", 2048)
    half = _train(tmp_path, "half", 1024)
    first_half = torch.load(half / "weights.pt", weights_only=True)
    train("ppo", "tictactoe_v3", steps=2048, out=half, seed=5, device="cpu", resume=True,
          progress=False)  # fmt: skip
    a = torch.load(whole / "weights.pt", weights_only=True)
    b = torch.load(half / "weights.pt", weights_only=True)
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], first_half[k]) for k in a)  # the resume did train
    rows = (half / "training" / "log.csv").read_text().splitlines()
    assert [int(r.split(",")[0]) for r in rows[1:]] == [512, 1024, 1536, 2048]


def test_resume_refuses_a_change_that_is_not_safe(tmp_path: Path) -> None:
    out = _train(tmp_path, "pkg", 512)
    bad = _config(tmp_path, "n_games = 4\n", "wider.toml")
    with pytest.raises(ArenaError) as err:
        train("ppo", "tictactoe_v3", steps=1024, out=out, seed=5, device="cpu", resume=True,
              config_path=bad, progress=False)  # fmt: skip
    assert str(err.value) == (
        f"{bad}: key 'n_games': cannot change on --resume (the run was trained with 8); "
        "choose a new --out"
    )
    with pytest.raises(ArenaError, match="the checkpoint is ppo on tictactoe_v3, not a2c"):
        train("a2c", "tictactoe_v3", steps=1024, out=out, seed=5, device="cpu", resume=True,
              progress=False)  # fmt: skip


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("clip_coeff = 0.1\n",
         "unknown key 'clip_coeff' (known keys: anneal_lr, channels, checkpoint_every"),
        ("epochs = 0\n", "key 'epochs': expected a positive number, got 0"),
        ("opponents = {self = 0.5, random = 0.3}\n",
         "key 'opponents': shares must sum to 1 (got 0.8)"),
        ("opponents = {self = 0.5, minimax = 0.5}\n",
         "key 'opponents.minimax': unknown opponent (choose from: self, past, random, one-ply, "
         "heuristic)"),
    ],
)  # fmt: skip
def test_bad_config_is_one_line_naming_file_and_key(
    tmp_path: Path, text: str, message: str
) -> None:
    path = _config(tmp_path, text, "bad.toml")
    with pytest.raises(ArenaError) as err:
        train("ppo", "tictactoe_v3", steps=100, out=tmp_path / "x", config_path=path,
              progress=False)  # fmt: skip
    assert str(err.value).startswith(f"{path}: {message}")
    assert "\n" not in str(err.value)


@pytest.mark.learning
@pytest.mark.slow  # 100k steps of PPO and 200 games: about 30 s on 2 shared cores
def test_ppo_self_play_beats_random_at_tictactoe(tmp_path: Path) -> None:
    # The tic-tac-toe preset (agents/common/pg_trainer.py PRESETS), no evaluations in training.
    config = _config(tmp_path, "eval_every = 0\nfinal_eval_games = 0\nlog_every = 20000\n",
                     "learn.toml")  # fmt: skip
    out = _train(tmp_path, "ttt", 100_000, config=config)
    # The written package through the arena's match runner, seats alternating.
    score = evaluate("tictactoe_v3", resolve_agent(str(out)), "random", games=200, seed=11)
    assert score.score >= 0.9, score  # win + draw/2
    assert check_package(out).envs_checked == ["tictactoe_v3"]

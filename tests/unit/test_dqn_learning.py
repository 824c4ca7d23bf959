"""DQN learns: a short self-play run at tic-tac-toe beats random (judged by the arena)."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.common.evaluate import evaluate
from agents.dqn import run
from arena.sources import resolve_agent
from arena.trainer import TrainRequest


@pytest.mark.learning
@pytest.mark.slow  # 20k steps of DQN: about 40 s
def test_dqn_self_play_beats_random_at_tictactoe(tmp_path: Path) -> None:
    request = TrainRequest(
        algo="dqn",
        env_id="tictactoe_v3",
        steps=20_000,
        out=tmp_path / "ttt",
        seed=0,
        config={"eval_every": 0, "final_eval_games": 20, "log_every": 5_000},
        progress=False,
    )
    summary = run(request)
    # The written package, through the arena's match runner, seats alternating.
    score = evaluate("tictactoe_v3", resolve_agent(str(summary.package_dir)), "random",
                     games=200, seed=11)  # fmt: skip
    # Random wins ~29% of its games against random; a learner should rarely lose.
    assert score.win_rate >= 0.8, score
    assert score.losses <= 20, score

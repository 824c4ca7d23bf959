"""SAC and MASAC learn: a short run on simple_spread beats random play by a clear margin.

simple_spread's team return is the sum over its three agents of minus the
distances from each landmark to its nearest agent, less collisions, over 25
steps. Random play scores about -79 on these episodes; the greedy policy of
untrained actors scores worse (about -117, each agent drifts one way).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")

from agents.common.mpe_loop import evaluate, team_return
from agents.common.vec_mpe import VecMPE
from agents.sac import run
from arena.registry import get_env
from arena.trainer import TrainRequest

STEPS = 60_000
MARGIN = 10.0
"""How far above random the trained greedy policy must score. Measured at 60k
steps (greedy, 64 episodes; random -78.1): sac -55.2 (seed 0) and -49.9 (seed 1),
masac -61.5 and -54.6, so the tighter case (masac, seed 0) clears it by 6.6."""


def random_team_return(episodes: int = 64) -> float:
    """Mean team return of uniform random actions on fixed seeded episodes."""
    vec = VecMPE(get_env("simple_spread_v3"), 16, seed=99)
    rng = np.random.default_rng(0)
    returns = evaluate(vec, lambda obs: rng.integers(0, 5, obs.shape[:2]), episodes)
    return float(team_return(vec, returns).mean())


@pytest.mark.learning
@pytest.mark.slow  # about 150 s each on one core
@pytest.mark.parametrize("algo", ["sac", "masac"])
def test_short_run_beats_random_on_simple_spread(algo: str, tmp_path: Path) -> None:
    request = TrainRequest(
        algo=algo,
        env_id="simple_spread_v3",
        steps=STEPS,
        out=tmp_path / "pkg",
        seed=0,
        # Updates from 10k steps, as in the MADDPG test: the default 25.6k random
        # warm-up steps leave too few updates for a run this short.
        config={"learning_starts": 10_000, "eval_episodes": 64, "eval_interval": STEPS},
        progress=False,
    )
    trained = run(request).metrics["eval_team_return"]
    baseline = random_team_return()
    assert baseline < -70
    assert trained > baseline + MARGIN, (trained, baseline)

"""One MADDPG update on simple_spread: own seat first by permuted inputs or permuted weights.

The centralised critics read the seats own-seat-first (``agents/common/centralised.py``)
so that a critic shared by a role knows whose value it gives. This times one
update (batch 1024, 3 agents, 2x64) with that input built per critic (the
earlier code, monkeypatched) and with the first layer's weight rows permuted
instead (the current code), interleaved in one process, best of 7.

    .venv/bin/python bench/mpe_update_cost.py
"""

from __future__ import annotations

import time

import numpy as np
import torch

from agents.common.centralised import joint_critic_input
from agents.common.joint_replay import JointReplay
from agents.common.stacked import StackedMLP
from agents.common.vec_mpe import VecMPE
from agents.maddpg import MADDPG, Config
from arena.registry import get_env


def permuted_input_q(
    self: MADDPG,
    critic: StackedMLP,
    obs: torch.Tensor,
    act: torch.Tensor,
    own: torch.Tensor | None = None,
) -> torch.Tensor:
    """The earlier critic values: each critic's own-first input gathered and concatenated."""
    n = self.n
    joint = act.unsqueeze(0).expand(n, *act.shape)
    if own is not None:
        eye = torch.eye(n)[:, None, :, None]
        joint = joint * (1.0 - eye) + own.unsqueeze(2) * eye
    order = torch.as_tensor([[i, *(j for j in range(n) if j != i)] for i in range(n)])
    return critic(joint_critic_input(obs, joint, order)).squeeze(-1)


def main() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    vec = VecMPE(get_env("simple_spread_v3"), 16, seed=0)
    replay = JointReplay(20_000, vec.n_agents, vec.obs_max, vec.act_max)
    rng = np.random.default_rng(0)
    obs = vec.reset()
    for _ in range(200):
        act = np.eye(vec.act_max, dtype=np.float32)[rng.integers(0, 5, (16, vec.n_agents))]
        step = vec.step(vec.to_env_actions(act))
        replay.add(obs, act, step.rewards, step.next_obs, step.terminated)
        obs = step.obs
    weights = MADDPG.q
    for share in (False, True):
        learner = MADDPG(Config(share_parameters=share), vec, centralised=True, device="cpu")
        batch = replay.sample(1024)
        best = {"inputs": float("inf"), "weights": float("inf")}
        for _ in range(7):
            for name, fn in (("inputs", permuted_input_q), ("weights", weights)):
                MADDPG.q = fn  # type: ignore[method-assign]
                start = time.perf_counter()
                for _ in range(30):
                    learner.update(batch)
                best[name] = min(best[name], (time.perf_counter() - start) / 30)
        MADDPG.q = weights  # type: ignore[method-assign]
        ratio = best["weights"] / best["inputs"]
        label = "shared" if share else "per seat"
        print(
            f"| {label} | {best['inputs'] * 1e3:.2f} | {best['weights'] * 1e3:.2f} | {ratio:.3f} |"
        )


if __name__ == "__main__":
    main()

"""Cost of one MADDPG update on simple_spread: the critic input in seat order vs own seat first.

The centralised critics read the seats own-seat-first (``agents/common/centralised.py``)
so that a critic shared by a role knows whose value it gives. This times one
update (batch 1024, 3 agents, 2x64) with that input and with the earlier
fixed-order input, monkeypatched, interleaved in one process, best of 7.

    .venv/bin/python bench/mpe_update_cost.py
"""

from __future__ import annotations

import time

import numpy as np
import torch

from agents.common.joint_replay import JointReplay
from agents.common.vec_mpe import VecMPE
from agents.maddpg import MADDPG, Config
from arena.registry import get_env


def fixed_order_input(self: MADDPG, obs: torch.Tensor, joint_act: torch.Tensor) -> torch.Tensor:
    """The earlier input: every critic sees all observations, then all actions, in seat order."""
    n, b = self.n, obs.shape[0]
    joint_obs = obs.reshape(1, b, -1).expand(n, b, -1)
    return torch.cat([joint_obs, joint_act.reshape(n, b, -1)], dim=-1)


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
    own_first = MADDPG.critic_input
    for share in (False, True):
        learner = MADDPG(Config(share_parameters=share), vec, centralised=True, device="cpu")
        batch = replay.sample(1024)
        best = {"fixed order": float("inf"), "own seat first": float("inf")}
        for _ in range(7):
            for name, fn in (("fixed order", fixed_order_input), ("own seat first", own_first)):
                MADDPG.critic_input = fn  # type: ignore[method-assign]
                start = time.perf_counter()
                for _ in range(30):
                    learner.update(batch)
                best[name] = min(best[name], (time.perf_counter() - start) / 30)
        MADDPG.critic_input = own_first  # type: ignore[method-assign]
        ratio = best["own seat first"] / best["fixed order"]
        label = "shared" if share else "per seat"
        print(
            f"| {label} | {best['fixed order'] * 1e3:.2f} | "
            f"{best['own seat first'] * 1e3:.2f} | {ratio:.3f} |"
        )


if __name__ == "__main__":
    main()

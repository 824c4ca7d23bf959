"""A2C by self-play on tic-tac-toe and connect four: synchronous advantage actor-critic.

Mnih et al. 2016 (A3C) made synchronous: all ``n_games`` games step in
lockstep, and after every rollout of ``rollout_steps`` ticks the learner takes
**one** gradient step (no epochs, no minibatches, no clipping of the ratio: the
data is exactly on-policy).

1. **Rollout** as PPO's (:class:`agents.common.pg_rollout.SelfPlayRollouts`),
   against the league's opponents.
2. **n-step returns** along each seat's trajectory (successor two ticks later):

       G_t = r_t + γ r_{t+2} + ... + γ^{k-1} r_{t+2(k-1)} + γ^k V(s_{t+2k}),   k = n_step

   cut short at the end of the game (no bootstrap) or at the last move the
   rollout holds (bootstrap from its value); Â_t = G_t - V(s_t).
3. **One step** on

       L = -E[log π(a|s) Â] + c_v ½ E[(V(s) - G)²] - c_e H[π]

   (Â is a constant: no gradient through the critic into the actor's term),
   with the gradient's global norm clipped to ``max_grad_norm``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import torch

from agents.common import pg_math
from agents.common.actor_critic import ActorCritic, evaluate_actions, gradient_step
from agents.common.boards import Boards
from agents.common.pg_rollout import STRIDE, Rollout, flatten, mirror_permutation, mirrored
from agents.common.pg_trainer import PGConfig, run_pg
from agents.common.pg_trainer import supports as pg_supports
from arena.config_check import NON_NEGATIVE, POSITIVE
from arena.specs import EnvSpec
from arena.trainer import TrainRequest, TrainSummary


@dataclass
class Config(PGConfig):
    """A2C's keys on top of the shared ones; shorter rollouts, one step each."""

    n_step: Annotated[int, POSITIVE] = 5
    """Moves of the seat summed before bootstrapping from V."""
    rollout_steps: Annotated[int, POSITIVE] = 16
    """Ticks per rollout (one gradient step each)."""
    lr: Annotated[float, POSITIVE] = 7e-4
    """Adam learning rate."""
    ent_coef: Annotated[float, NON_NEGATIVE] = 0.05
    """Entropy bonus: with PPO's 0.01 the policy's entropy fell to 0.3 nats by 300k steps on
    connect four and it scored 0.85 against random; with 0.05, 0.95 (docs/policy-gradients.md)."""
    norm_adv: bool = False
    """Normalise the advantages over the batch (off in the classic recipe)."""


COLUMNS = ["policy_loss", "value_loss", "entropy", "explained_variance", "samples"]


def update(
    net: ActorCritic, optimizer: torch.optim.Optimizer, rollout: Rollout, cfg: Any, boards: Boards
) -> dict[str, Any]:
    """n-step returns, then one actor-critic gradient step on the whole rollout."""
    assert isinstance(cfg, Config)
    returns = pg_math.nstep_returns(
        rollout.rewards, rollout.values, rollout.dones, gamma=cfg.gamma, n=cfg.n_step,
        stride=STRIDE,
    )  # fmt: skip
    batch = flatten(rollout, returns - rollout.values, returns)
    if cfg.mirror:
        batch = mirrored(batch, mirror_permutation(boards, str(rollout.obs.device)), net)
    logp, entropies, values = evaluate_actions(net, batch.obs, batch.masks, batch.actions)
    adv = pg_math.normalise(batch.advantages) if cfg.norm_adv else batch.advantages
    policy_loss = -(logp * adv).mean()  # ∇ log π(a|s) Â: the policy gradient theorem
    value_loss = pg_math.value_loss(values, batch.values, batch.returns, None)
    entropy = entropies.mean()
    loss = policy_loss + cfg.vf_coef * value_loss - cfg.ent_coef * entropy
    gradient_step(net, optimizer, loss, cfg.max_grad_norm)
    return {
        "policy_loss": policy_loss.detach(), "value_loss": value_loss.detach(),
        "entropy": entropy.detach(),
        "explained_variance": pg_math.explained_variance(batch.values, batch.returns),
        "samples": len(batch),
    }  # fmt: skip


def supports(name: str, spec: EnvSpec) -> str | None:
    return pg_supports(name, spec)


def run(request: TrainRequest) -> TrainSummary:
    """Train A2C by self-play on ``request.env_id`` and write the package."""
    return run_pg(request, Config, update, COLUMNS, presets={})

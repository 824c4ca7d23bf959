"""PPO by self-play on tic-tac-toe and connect four (Schulman et al. 2017, CleanRL's recipe).

One iteration, top to bottom:

1. **Rollout.** ``n_games`` lockstep games for ``rollout_steps`` ticks
   (:class:`agents.common.pg_rollout.SelfPlayRollouts`); the learner samples
   a ~ π_old(·|s) with illegal logits set to -inf, and stores log π_old(a|s)
   and V_old(s). Each new game's opponent is drawn from the league
   (``opponents``, :mod:`agents.common.league`).
2. **Advantages.** GAE(λ) along each seat's trajectory, whose successor is two
   ticks later (the opponent moved in between); the reward is ±1/0 at the end
   from the seat's own side, so no sign flip:

       δ_t = r_t + γ (1 - d_t) V(s_{t+2}) - V(s_t),   Â_t = δ_t + γλ (1 - d_t) Â_{t+2}

   A move whose next turn falls after the rollout has no target and is left out.
3. **Mirror.** With ``mirror`` each move is also trained as its left-right
   mirror image (same advantage and return, log π_old taken on the mirrored board).
4. **Epochs of minibatches.** ``epochs`` passes over the batch in
   ``minibatches`` shuffled slices, each one Adam step on

       L = -E[min(r Â, clip(r, 1-ε, 1+ε) Â)] + c_v L_V - c_e H[π],   r = π(a|s) / π_old(a|s)

   with Â normalised per minibatch, L_V = ½(V - R)² (or, with ``clip_vloss``,
   the max of it and of V clipped to V_old ± ε), H the entropy over legal
   actions, and the gradient's global norm clipped to ``max_grad_norm``.
   ``target_kl`` > 0 stops the epochs early once the approximate KL
   E[(r - 1) - log r] passes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import torch

from agents.common import pg_math
from agents.common.actor_critic import ActorCritic, evaluate_actions, gradient_step
from agents.common.boards import Boards
from agents.common.pg_rollout import STRIDE, Rollout, flatten, mirror_permutation, mirrored
from agents.common.pg_trainer import PRESETS, PGConfig, run_pg
from agents.common.pg_trainer import supports as pg_supports
from arena.config_check import NON_NEGATIVE, POSITIVE
from arena.specs import EnvSpec
from arena.trainer import TrainRequest, TrainSummary


@dataclass
class Config(PGConfig):
    """PPO's keys on top of the shared ones (docs/policy-gradients.md lists them all)."""

    gae_lambda: Annotated[float, NON_NEGATIVE] = 0.95
    """λ of GAE (0: one-step TD advantages, 1: Monte Carlo)."""
    clip_coef: Annotated[float, POSITIVE] = 0.2
    """ε of the clipped surrogate (and of the value clipping)."""
    clip_vloss: bool = True
    """Clip the value update to V_old ± clip_coef (the pessimistic max of both losses)."""
    norm_adv: bool = True
    """Normalise advantages per minibatch."""
    epochs: Annotated[int, POSITIVE] = 4
    """Passes over each rollout."""
    minibatches: Annotated[int, POSITIVE] = 4
    """Minibatches per pass."""
    target_kl: Annotated[float, NON_NEGATIVE] = 0.0
    """Stop the epochs once the approximate KL exceeds this (0 = off)."""


COLUMNS = ["policy_loss", "value_loss", "entropy", "approx_kl", "clipfrac",
           "explained_variance", "samples"]  # fmt: skip


def update(
    net: ActorCritic, optimizer: torch.optim.Optimizer, rollout: Rollout, cfg: Any, boards: Boards
) -> dict[str, Any]:
    """GAE, then ``epochs`` x ``minibatches`` clipped-surrogate steps on one rollout."""
    assert isinstance(cfg, Config)
    advantages, returns = pg_math.gae(
        rollout.rewards, rollout.values, rollout.dones,
        gamma=cfg.gamma, lam=cfg.gae_lambda, stride=STRIDE,
    )  # fmt: skip
    batch = flatten(rollout, advantages, returns)
    if cfg.mirror:
        batch = mirrored(batch, mirror_permutation(boards, str(rollout.obs.device)), net)
    size = len(batch)
    mb_size = max(size // cfg.minibatches, 1)
    sums = torch.zeros(5, device=rollout.obs.device)  # policy, value, entropy, kl, clipfrac
    count = 0
    for _epoch in range(cfg.epochs):
        order = torch.randperm(size, device=rollout.obs.device)
        kl_epoch = torch.zeros((), device=rollout.obs.device)
        for index in order.split(mb_size):
            mb = batch.rows(index)
            new_logp, entropies, new_values = evaluate_actions(net, mb.obs, mb.masks, mb.actions)
            adv = pg_math.normalise(mb.advantages) if cfg.norm_adv else mb.advantages
            # L_clip = -E[min(r Â, clip(r, 1-ε, 1+ε) Â)]
            policy_loss = pg_math.clipped_surrogate(new_logp, mb.logp, adv, cfg.clip_coef)
            v_clip = cfg.clip_coef if cfg.clip_vloss else None
            value_loss = pg_math.value_loss(new_values, mb.values, mb.returns, v_clip)
            entropy = entropies.mean()
            loss = policy_loss + cfg.vf_coef * value_loss - cfg.ent_coef * entropy
            gradient_step(net, optimizer, loss, cfg.max_grad_norm)
            with torch.no_grad():
                log_ratio = new_logp - mb.logp
                ratio = log_ratio.exp()
                approx_kl = ((ratio - 1) - log_ratio).mean()  # k3 estimator (Schulman's blog)
                clipfrac = ((ratio - 1).abs() > cfg.clip_coef).float().mean()
                sums += torch.stack([policy_loss, value_loss, entropy, approx_kl, clipfrac])
                kl_epoch = torch.maximum(kl_epoch, approx_kl)
            count += 1
        if cfg.target_kl > 0 and float(kl_epoch) > cfg.target_kl:  # one host read per epoch
            break
    means = sums / max(count, 1)
    return {
        "policy_loss": means[0], "value_loss": means[1], "entropy": means[2],
        "approx_kl": means[3], "clipfrac": means[4],
        "explained_variance": pg_math.explained_variance(batch.values, batch.returns),
        "samples": size,
    }  # fmt: skip


def supports(name: str, spec: EnvSpec) -> str | None:
    return pg_supports(name, spec)


def run(request: TrainRequest) -> TrainSummary:
    """Train PPO by self-play on ``request.env_id`` and write the package."""
    return run_pg(request, Config, update, COLUMNS, PRESETS)

"""Soft Actor-Critic on the particle envs: ``sac`` (independent learners) and ``masac``.

SAC (Haarnoja et al. 2018, arXiv 1812.05905) maximises return plus entropy,
``J(pi) = E[sum_t r_t + alpha H(pi(.|o_t))]``, with twin critics (the minimum of
two Q estimates curbs over-estimation), Polyak-averaged target critics and a
temperature ``alpha`` tuned automatically towards a target entropy.

* Continuous (Box) actions: a tanh-squashed Gaussian,
  ``a = tanh(mu + sigma * eps)``, ``log pi(a) = log N(u) - sum log(1 - tanh(u)^2)``,
  reparameterised for the actor gradient; ``Q_i(., a)`` is a scalar.
* Discrete actions (Christodoulou 2019, arXiv 1910.07207): a softmax policy
  and critics that output one value per own action, so expectations over the
  own action are exact sums instead of samples.
* ``masac``: the critic of seat ``i`` sees every seat's observation and the other
  seats' actions (centralised, as in MADDPG); actors see only their own
  observation (decentralised execution). ``sac``: each critic sees ``o_i`` only.

As in :mod:`agents.maddpg`, all seats' actors, twin critics and temperatures
are stacked and updated in one batched pass.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np
import torch
import torch.nn.functional as F

from agents.common.centralised import JointCritic
from agents.common.joint_replay import JointBatch
from agents.common.mpe_loop import (
    SHARED_PRESET,
    LoopSettings,
    follow_lr_schedule,
    load_preset_config,
    run_loop,
    supports_mpe,
)
from agents.common.stacked import (
    StackedMLP,
    clip_grad_norm_per_agent,
    per_seat_state_dict,
    soft_update,
)
from agents.common.vec_mpe import VecMPE
from arena.config_check import NON_NEGATIVE
from arena.specs import EnvSpec
from arena.trainer import TrainRequest, TrainSummary

LOG_STD_MIN, LOG_STD_MAX = -5.0, 2.0


@dataclass
class Config:
    """SAC / MASAC hyperparameters; the loop settings match :mod:`agents.maddpg`'s
    ``fast`` preset (measured on simple_spread)."""

    preset: Literal["fast", "shared"] = "fast"
    """``fast``: the values below. ``shared``: with ``share_parameters`` and 2x128
    layers, as maddpg's ``shared`` preset. Keys in the config file override it."""
    actor_lr: float = 1e-3
    """Adam step size of the actors."""
    critic_lr: float = 1e-3
    """Adam step size of the twin critics."""
    final_lr_fraction: float = 1.0
    """The actor and critic learning rates fall linearly to this fraction over the
    run's updates (1.0: constant)."""
    alpha_lr: float = 1e-3
    """Adam step size of each seat's log-temperature."""
    init_alpha: float = 0.1
    """Initial temperature (weight of the entropy bonus)."""
    target_entropy_scale: float = 0.3
    """Discrete: target entropy = scale x log(number of actions) (the uniform
    policy's entropy is log n; 0.98 as in the paper kept MPE policies too random).
    Continuous: target = -scale x action dims / 0.3, i.e. -dims at the default."""
    gamma: float = 0.95
    """Discount (25-step episodes)."""
    tau: float = 0.01
    """Polyak rate of the target critics."""
    hidden: int = 64
    """Width of the two hidden layers (2x64 MLPs)."""
    batch_size: int = 1024
    """Joint transitions per update."""
    buffer_size: int = 1_000_000
    """Replay capacity (preallocated on the training device)."""
    learning_starts: int = 25_600
    """Random-action env steps before the first update."""
    train_every: int = 16
    """Env steps between updates (each trains every seat once)."""
    n_envs: int = 16
    """Envs stepped in lockstep."""
    max_cycles: int = 25
    """Episode length (MPE's time limit, a truncation: targets bootstrap through it)."""
    share_parameters: bool = False
    """Seats of one role share one actor and one pair of twin critics (see
    :class:`agents.maddpg.Config`); each seat keeps its own temperature."""
    grad_clip: float = 1.0
    """Per-agent gradient-norm clip of critics and actors."""
    continuous_actions: bool = False
    """Train on Box actions; the arena plays MPE with Discrete actions, so such a
    package only plays envs built with ``continuous_actions=True``."""
    log_interval: int = 10_000
    """Env steps between CSV rows."""
    eval_interval: int = 20_000
    """Env steps between greedy evaluations."""
    eval_episodes: int = 32
    """Episodes per greedy evaluation."""
    checkpoint_interval: int = 100_000
    """Env steps between checkpoints (and one at the end)."""
    checkpoint_minutes: Annotated[float, NON_NEGATIVE] = 10.0
    """Also checkpoint at least this often (0 = off); Ctrl-C always saves one."""
    threads: int = 1
    """torch threads (1: on shared CPUs, two threads were 4-10x slower)."""


PRESETS: dict[str, dict[str, Any]] = {"fast": {}, "shared": SHARED_PRESET}


def load_config(values: dict[str, Any], source: str) -> Config:
    """The preset's values, overridden by the file's (each checked by ``build_config``)."""
    return load_preset_config(Config, PRESETS, values, source)


def supports(name: str, spec: EnvSpec) -> str | None:
    return supports_mpe(name, spec)


class SAC:
    """N stacked actors, 2N stacked critics (twins), their targets, N temperatures.

    Args:
        cfg: hyperparameters.
        vec: the training envs (sizes, action mask, discrete or continuous).
        centralised: critics see every seat's observation and the other seats'
            actions (MASAC), else only their own observation (SAC).
        device: where the networks live.
    """

    def __init__(
        self,
        cfg: Config,
        vec: VecMPE,
        *,
        centralised: bool,
        device: str,
        total_updates: int = 1,
    ) -> None:
        n, o, a, h = vec.n_agents, vec.obs_max, vec.act_max, cfg.hidden
        self.cfg, self.n, self.centralised = cfg, n, centralised
        self.total_updates = total_updates
        self.continuous = vec.continuous
        roles = list(dict.fromkeys(vec.roles))
        net = [roles.index(r) if cfg.share_parameters else i for i, r in enumerate(vec.roles)]
        nets = len(roles) if cfg.share_parameters else n
        out = 2 * a if self.continuous else a
        self.actor = StackedMLP(nets, (o, h, h, out), seat_net=net).to(device)
        if self.continuous:  # Q(o.., a..) -> scalar
            critic_in, critic_out = (n * (o + a), 1) if centralised else (o + a, 1)
        else:  # Q(o.., a_-i) -> one value per own action
            critic_in, critic_out = (n * (o + a), a) if centralised else (o, a)
        twins = net + [nets + k for k in net]  # [first critics of every seat, second critics]
        self.critic = StackedMLP(2 * nets, (critic_in, h, h, critic_out), seat_net=twins)
        self.critic.to(device)
        self.critic_target = copy.deepcopy(self.critic)
        self.log_alpha = torch.full((n,), math.log(cfg.init_alpha), device=device)
        self.log_alpha.requires_grad_(True)
        self.actor_opt = torch.optim.Adam(self.actor.parameters(), lr=cfg.actor_lr)
        self.critic_opt = torch.optim.Adam(self.critic.parameters(), lr=cfg.critic_lr)
        self.alpha_opt = torch.optim.Adam([self.log_alpha], lr=cfg.alpha_lr)
        self.mask = torch.as_tensor(vec.action_mask(), device=device)  # [N, A]
        # Critic i reads its own seat first; a discrete critic never reads its own action.
        self.joint = JointCritic(n, o, a, copies=2, own_action=self.continuous, device=device)
        dims = torch.as_tensor(vec.act_dims, dtype=torch.float32, device=device)
        if self.continuous:
            self.target_entropy = -dims * cfg.target_entropy_scale / 0.3
        else:
            self.target_entropy = cfg.target_entropy_scale * torch.log(dims)
        self.updates = 0

    # --- the policy -------------------------------------------------------------

    def policy(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``obs [B, N, o]``; returns ``(mean or logits, log_std or log-probs)``, ``[N, B, a]``."""
        out = self.actor(obs.transpose(0, 1))
        if self.continuous:
            mean, log_std = out.chunk(2, dim=-1)
            return mean, log_std.clamp(LOG_STD_MIN, LOG_STD_MAX)
        logits = out.masked_fill(self.mask[:, None, :] == 0, -1e9)
        return logits, F.log_softmax(logits, dim=-1)

    def sample(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Continuous: a reparameterised action ``[N, B, a]`` in [-1, 1] and log-prob ``[N, B]``."""
        mean, log_std = self.policy(obs)
        u = mean + log_std.exp() * torch.randn_like(mean)
        action = torch.tanh(u)
        # log pi(a) = sum_k [log N(u_k; mean, std) - log(1 - tanh(u_k)^2)], real dims only;
        # log(1 - tanh(u)^2) = 2 (log 2 - u - softplus(-2u)) stays exact where tanh saturates.
        log_prob = (
            -0.5 * ((u - mean) / log_std.exp()).pow(2) - log_std - 0.5 * math.log(2 * math.pi)
        ) - 2.0 * (math.log(2.0) - u - F.softplus(-2.0 * u))
        mask = self.mask[:, None, :]
        return action * mask, (log_prob * mask).sum(-1)

    @torch.no_grad()
    def act(self, obs: torch.Tensor, *, explore: bool) -> torch.Tensor:
        if self.continuous:
            if explore:
                action, _ = self.sample(obs)
            else:
                action = torch.tanh(self.policy(obs)[0]) * self.mask[:, None, :]
        else:
            logits, _ = self.policy(obs)
            if explore:
                index = torch.distributions.Categorical(logits=logits).sample()
            else:
                index = logits.argmax(-1)
            action = F.one_hot(index, logits.shape[-1]).float()
        return action.transpose(0, 1)

    def episodes_ended(self, done: np.ndarray) -> None:
        pass

    # --- the critics ------------------------------------------------------------

    def q(
        self,
        critic: StackedMLP,
        obs: torch.Tensor,
        act: torch.Tensor,
        own: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Twin values ``[2, N, B]`` (continuous) or ``[2, N, B, a]`` (discrete: per own action).

        ``obs [B, N, o]``, ``act [B, N, a]``; ``own [N, B, a]``, if given, is each
        critic's own seat's action in place of the one in ``act`` (the actor
        update, continuous). Discrete critics never see their own seat's action
        (it is their output index).
        """
        n, b = self.n, obs.shape[0]
        if self.centralised:
            out = self.joint(critic, obs, act, None if own is None else torch.cat([own, own]))
        else:
            x = obs.transpose(0, 1)
            if self.continuous:
                x = torch.cat([x, act.transpose(0, 1) if own is None else own], dim=-1)
            out = critic(torch.cat([x, x], dim=0))
        out = out.view(2, n, b, -1)
        return out.squeeze(-1) if self.continuous else out

    def update(self, batch: JointBatch) -> None:
        cfg = self.cfg
        obs, act, rew, next_obs, term = batch
        follow_lr_schedule(self)
        alpha = self.log_alpha.exp().detach()[:, None]  # [N, 1]

        with torch.no_grad():
            if self.continuous:
                # y = r + gamma (1 - d) (min_k Q'_k(o', a') - alpha log pi(a'|o')), a' ~ pi(o')
                next_a, next_logp = self.sample(next_obs)
                q_next = self.q(self.critic_target, next_obs, next_a.transpose(0, 1))
                q_next = q_next.min(0).values
                v_next = q_next - alpha * next_logp
            else:
                # V(o') = sum_a pi(a|o') (min_k Q'_k(o', a'_-i, a) - alpha log pi(a|o'))
                logits, next_logp = self.policy(next_obs)
                index = torch.distributions.Categorical(logits=logits).sample()
                next_a = F.one_hot(index, logits.shape[-1]).float().transpose(0, 1)
                q_next = self.q(self.critic_target, next_obs, next_a).min(0).values
                v_next = (next_logp.exp() * (q_next - alpha[..., None] * next_logp)).sum(-1)
            y = rew.T + cfg.gamma * (1.0 - term.T) * v_next  # [N, B]

        q_now = self.q(self.critic, obs, act)
        if not self.continuous:  # the value of the action taken
            q_now = (q_now * act.transpose(0, 1).unsqueeze(0)).sum(-1)
        critic_loss = (q_now - y.unsqueeze(0)).pow(2).mean(-1).sum()
        self.critic_opt.zero_grad(set_to_none=True)
        critic_loss.backward()
        clip_grad_norm_per_agent(self.critic.parameters(), cfg.grad_clip)
        self.critic_opt.step()

        # Actor: minimise E[alpha log pi(a_i|o_i) - min_k Q_k(o, a_-i, a_i)], others as stored.
        self.critic.requires_grad_(False)
        if self.continuous:
            mine, logp = self.sample(obs)
            q_pi = self.q(self.critic, obs, act, own=mine).min(0).values
            actor_loss = (alpha * logp - q_pi).mean(1).sum()
            entropy_gap = -logp.detach() - self.target_entropy[:, None]  # [N, B]
        else:
            _, logp = self.policy(obs)
            probs = logp.exp()
            q_pi = self.q(self.critic, obs, act).min(0).values
            actor_loss = (probs * (alpha[..., None] * logp - q_pi)).sum(-1).mean(1).sum()
            entropy = -(probs * logp).sum(-1).detach()
            entropy_gap = entropy - self.target_entropy[:, None]
        self.actor_opt.zero_grad(set_to_none=True)
        actor_loss.backward()
        self.critic.requires_grad_(True)
        clip_grad_norm_per_agent(self.actor.parameters(), cfg.grad_clip)
        self.actor_opt.step()

        # Temperature: J(alpha) = E[alpha (H(pi) - H_target)]: alpha falls while the
        # policy is more random than the target, rises once it is less.
        alpha_loss = (self.log_alpha.exp()[:, None] * entropy_gap).mean(1).sum()
        self.alpha_opt.zero_grad(set_to_none=True)
        alpha_loss.backward()
        self.alpha_opt.step()

        soft_update(self.critic_target, self.critic, cfg.tau)
        self.updates += 1

    # --- saving -----------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        return {
            "actor": self.actor.state_dict(),
            "critic": self.critic.state_dict(),
            "critic_target": self.critic_target.state_dict(),
            "actor_opt": self.actor_opt.state_dict(),
            "critic_opt": self.critic_opt.state_dict(),
            "alpha_opt": self.alpha_opt.state_dict(),
            "log_alpha": self.log_alpha.detach(),
            "updates": self.updates,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for key in ("actor", "critic", "critic_target", "actor_opt", "critic_opt", "alpha_opt"):
            getattr(self, key).load_state_dict(state[key])
        with torch.no_grad():
            self.log_alpha.copy_(state["log_alpha"])
        self.updates = int(state["updates"])

    def export(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        head = "gaussian" if self.continuous else "logits"
        return per_seat_state_dict(self.actor), {"head": head, "hidden": [self.cfg.hidden] * 2}


def run(request: TrainRequest) -> TrainSummary:
    """``arena train masac|sac``: train every seat of the env, write the package."""
    cfg = load_config(dict(request.config), request.config_source)
    centralised = request.algo == "masac"
    settings = LoopSettings.from_config(cfg)
    what = "multi-agent SAC (centralised twin critics)" if centralised else "independent SAC"
    return run_loop(
        request,
        settings=settings,
        config=cfg,
        make_learner=lambda vec: SAC(
            cfg,
            vec,
            centralised=centralised,
            device=request.device,
            total_updates=settings.updates(request.steps),
        ),
        kind="sac",
        description=f"{what}, {request.steps} env steps on {request.env_id}",
    )
